import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { UpgradeStatus } from '@switchboard/protocol';
import type { Logger } from 'pino';
import type { WebSocket, WebSocketServer } from 'ws';
import { type AuthUser, extractToken, type TokenVerifier } from './auth.ts';
import { redactUrl } from './logger.ts';
import type { Metrics } from './metrics.ts';
import type { ResolvedServerOptions } from './options.ts';

export interface UpgradeDeps {
  wss: WebSocketServer;
  options: ResolvedServerOptions;
  verifyToken: TokenVerifier | undefined;
  metrics: Metrics;
  logger: Logger;
  /** False while draining: new connections are refused with 503. */
  isAccepting(): boolean;
  /** Connections open now. */
  connectionCount(): number;
  onConnection(socket: WebSocket, req: IncomingMessage, user: AuthUser): void;
}

const STATUS_TEXT: Record<number, string> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  503: 'Service Unavailable',
};

/**
 * Everything decided before the protocol switch, answered with a plain HTTP status so the socket is never
 * upgraded: path (404), draining or capacity (503), `Origin` allow-list (403), credentials (401).
 */
export function createUpgradeHandler(deps: UpgradeDeps) {
  const { options, logger, metrics } = deps;
  /** Upgrades past the checks but not yet switched; they count against `maxConnections`. */
  let pending = 0;

  function refuse(socket: Duplex, status: number, error: string, req: IncomingMessage) {
    metrics.upgradeRejections.inc({ status: String(status) });
    logger.info({ status, error, url: redactUrl(req.url), origin: req.headers.origin }, 'upgrade refused');
    const body = JSON.stringify({ error });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    socket.destroy();
  }

  function originAllowed(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    // Non-browser clients send no Origin; cross-site hijacking needs a browser, which always sends one.
    if (origin === undefined) return true;
    if (options.allowedOrigins.includes('*') || options.allowedOrigins.includes(origin)) return true;
    try {
      return options.allowedOrigins.length === 0 && new URL(origin).host === req.headers.host;
    } catch {
      return false;
    }
  }

  return async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Until ws takes the socket over: an error during the checks must not crash the process.
    const destroyOnError = () => socket.destroy();
    socket.on('error', destroyOnError);
    const pathname = (req.url ?? '/').split('?', 1)[0];
    if (pathname !== options.path) return refuse(socket, 404, 'no WebSocket endpoint here', req);
    if (!deps.isAccepting()) return refuse(socket, UpgradeStatus.AT_CAPACITY, 'server is shutting down', req);
    if (deps.connectionCount() + pending >= options.maxConnections) {
      return refuse(socket, UpgradeStatus.AT_CAPACITY, 'server at capacity', req);
    }
    if (!originAllowed(req)) return refuse(socket, UpgradeStatus.FORBIDDEN, 'origin not allowed', req);

    pending++;
    let user: AuthUser | null = null;
    try {
      if (options.authenticate) {
        user = await options.authenticate(req);
      } else {
        const token = extractToken(req, options.cookieName);
        user = token ? await deps.verifyToken!(token) : null;
      }
    } catch (error) {
      logger.info({ reason: (error as Error).message, url: redactUrl(req.url) }, 'authentication failed');
    } finally {
      pending--;
    }
    if (!user) return refuse(socket, UpgradeStatus.UNAUTHORIZED, 'missing or invalid credentials', req);
    if (socket.destroyed) return;
    // Removed before the switch: a listener left on the socket would keep this request (and its URL with
    // the token) alive for as long as the connection lasts.
    socket.off('error', destroyOnError);
    const authenticated = user;
    deps.wss.handleUpgrade(req, socket, head, (ws) => deps.onConnection(ws, req, authenticated));
  };
}
