import type { IncomingMessage, ServerResponse } from 'node:http';
import { UpgradeStatus } from '@switchboard/protocol';
import type { Logger } from 'pino';
import type { AuthUser, TokenVerifier } from './auth.ts';
import type { HttpRoute } from './httpHandler.ts';
import type { ResolvedServerOptions } from './options.ts';
import { isOriginAllowed } from './origin.ts';
import type { TicketIssuer } from './ticket.ts';

/**
 * `POST <ticketPath>` with `Authorization: Bearer <token>` (or what a custom `authenticate` accepts) answers
 * `{ ticket, expiresAt }`: a single-use credential valid `ticketTtlMs`, for `?ticket=` on the WebSocket upgrade
 * or an SSE stream, so the long-lived token travels in a header and never in a URL. Tokens in the query or a
 * ticket are not accepted here: the first would put the token in a URL after all, the second would let a ticket
 * live forever. 401 without valid credentials, 403 for a disallowed Origin, 405 for any other method. An allowed
 * cross-origin caller gets CORS headers, and its preflight (`OPTIONS`) a 204.
 */
export function createTicketRoute(deps: {
  options: ResolvedServerOptions;
  verifyToken: TokenVerifier | undefined;
  tickets: TicketIssuer;
  logger: Logger;
}): HttpRoute {
  const { options } = deps;

  async function userOf(req: IncomingMessage): Promise<AuthUser | null> {
    if (options.authenticate) return options.authenticate(req);
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : '';
    if (!token) return null;
    try {
      return await deps.verifyToken!(token);
    } catch (error) {
      deps.logger.info({ reason: (error as Error).message }, 'ticket refused: invalid token');
      return null;
    }
  }

  function answer(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    const text = JSON.stringify(body);
    res
      .writeHead(status, {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(text)),
        'cache-control': 'no-store',
        ...headers,
      })
      .end(text);
  }

  return {
    matches: (pathname) => pathname === options.ticketPath,
    async handle(req, res) {
      if (!isOriginAllowed(req, options.allowedOrigins)) {
        return answer(res, UpgradeStatus.FORBIDDEN, { error: 'origin not allowed' });
      }
      // A page on an allowed other origin exchanges its token here with `fetch` and an Authorization
      // header: the browser asks first (preflight) and reads the answer only with these headers.
      const origin = req.headers.origin;
      if (origin !== undefined) {
        res.setHeader('access-control-allow-origin', origin);
        res.setHeader('access-control-allow-credentials', 'true');
        res.setHeader('vary', 'origin');
      }
      if (req.method === 'OPTIONS') {
        res
          .writeHead(204, {
            'access-control-allow-methods': 'POST, OPTIONS',
            'access-control-allow-headers': 'authorization, content-type',
            'access-control-max-age': '600',
          })
          .end();
        return;
      }
      if (req.method !== 'POST') return answer(res, 405, { error: 'use POST' }, { allow: 'POST, OPTIONS' });
      const user = await userOf(req);
      if (!user) return answer(res, UpgradeStatus.UNAUTHORIZED, { error: 'missing or invalid credentials' });
      return answer(res, 200, deps.tickets.issue(user));
    },
  };
}
