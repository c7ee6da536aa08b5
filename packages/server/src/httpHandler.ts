import type { IncomingMessage, ServerResponse } from 'node:http';
import { isSwitchboardError } from '@switchboard/protocol';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import type { Logger } from 'pino';
import { toTRPCError } from './errors.ts';
import { sendJson } from './jsonResponse.ts';
import { redactUrl } from './logger.ts';
import { parseRequestTarget } from './requestDecoding.ts';

/** A plain HTTP route handler (`ServerOptions.onHttpRequest`); it may answer synchronously or asynchronously. */
export type HttpRequestHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** A route of the server's own (the HTTP transport, the ticket route), tried before `onHttpRequest`. */
export interface HttpRoute {
  /** Whether this route answers requests to `pathname` (decoded path of the request target, no query). */
  matches(pathname: string): boolean;
  handle: HttpRequestHandler;
}

/**
 * The request boundary: the `request` listener of the HTTP server. It runs `onHttpRequest` (404 without one),
 * awaits what it returns, and turns a thrown error or a rejected promise into an answer plus a warn log line:
 * a SwitchboardError gets the status of its code (BAD_REQUEST → 400, from a guarded decode of client text),
 * anything else 500 with no detail. A response that already started is cut instead. The server's own `routes`
 * (first match wins) run inside the same boundary, before `onHttpRequest`.
 *
 * Why here and not in a process-wide `unhandledRejection` handler: Node ends the process on an unhandled
 * rejection, and a `request` listener's promise is dropped by `http.Server`, so one malformed request could
 * stop every instance; a global handler would keep the process up but hide the bug and leak the request.
 */
export function createHttpHandler(
  onHttpRequest: HttpRequestHandler | undefined,
  logger: Logger,
  routes: readonly HttpRoute[] = [],
) {
  function fail(req: IncomingMessage, res: ServerResponse, error: unknown) {
    const status = isSwitchboardError(error) ? getHTTPStatusCodeFromError(toTRPCError(error)) : 500;
    logger.warn({ err: error, status, method: req.method, url: redactUrl(req.url) }, 'HTTP request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // Client-caused errors explain themselves; server faults do not leak their message.
    const message = status < 500 && error instanceof Error ? error.message : 'internal error';
    sendJson(res, status, { error: message });
  }

  const fallback = onHttpRequest ?? notFound;
  function handle(req: IncomingMessage, res: ServerResponse): void | Promise<void> {
    if (routes.length === 0) return fallback(req, res);
    const { pathname } = parseRequestTarget(req.url);
    const route = routes.find((candidate) => candidate.matches(pathname));
    return (route ? route.handle : fallback)(req, res);
  }

  return function httpServerOnRequest(req: IncomingMessage, res: ServerResponse): void {
    let pending: unknown;
    try {
      pending = handle(req, res);
    } catch (error) {
      fail(req, res, error);
      return;
    }
    // Promise.resolve also adopts a thenable that is not a native Promise.
    if (pending !== undefined) Promise.resolve(pending).catch((error: unknown) => fail(req, res, error));
  };
}

function notFound(_req: IncomingMessage, res: ServerResponse): void {
  sendJson(res, 404, { error: 'not found' });
}
