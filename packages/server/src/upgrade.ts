import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { isSwitchboardError, UpgradeStatus } from '@switchboard/protocol';
import type { Logger } from 'pino';
import type { WebSocket, WebSocketServer } from 'ws';
import { type AuthUser, extractToken, type TokenVerifier } from './auth.ts';
import { redactUrl } from './logger.ts';
import type { Metrics } from './metrics.ts';
import type { ResolvedServerOptions } from './options.ts';
import { parseRequestTarget } from './requestDecoding.ts';

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
  /** Connections of one user open now. */
  connectionsOfUser(userId: string): number;
  /** Must register the connection synchronously: the per-user limit is checked right before the switch. */
  onConnection(socket: WebSocket, req: IncomingMessage, user: AuthUser): void;
}

/**
 * Everything decided before the protocol switch, answered with a plain HTTP status so the socket is never
 * upgraded: malformed request (400), path (404), draining or capacity (503), `Origin` allow-list (403),
 * credentials (401), connections of this user (429). The returned listener never rejects: whatever throws
 * inside is logged and refused with 500, because a rejected `upgrade` listener would end the process.
 */
export function createUpgradeHandler(deps: UpgradeDeps) {
  const { options, logger, metrics } = deps;
  /** Upgrades past the checks but not yet switched; they count against `maxConnections`. */
  let pending = 0;

  function refuse(socket: Duplex, status: number, error: string, req: IncomingMessage) {
    metrics.upgradeRejections.inc({ status: String(status) });
    logger.info({ status, error, url: redactUrl(req.url), origin: req.headers.origin }, 'upgrade refused');
    if (socket.destroyed) return;
    const body = JSON.stringify({ error });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
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

  /** The token of the request; a malformed target or cookie is a BAD_REQUEST, refused with 400. */
  async function authenticate(req: IncomingMessage): Promise<AuthUser | null> {
    if (options.authenticate) return options.authenticate(req);
    const token = extractToken(req, options.cookieName);
    return token ? deps.verifyToken!(token) : null;
  }

  async function handle(req: IncomingMessage, socket: Duplex, head: Buffer, destroyOnError: () => void) {
    let pathname: string;
    try {
      pathname = parseRequestTarget(req.url).pathname;
    } catch (error) {
      return refuse(socket, UpgradeStatus.BAD_REQUEST, (error as Error).message, req);
    }
    if (pathname !== options.path)
      return refuse(socket, UpgradeStatus.NOT_FOUND, 'no WebSocket endpoint here', req);
    if (!deps.isAccepting()) return refuse(socket, UpgradeStatus.AT_CAPACITY, 'server is shutting down', req);
    if (deps.connectionCount() + pending >= options.maxConnections) {
      return refuse(socket, UpgradeStatus.AT_CAPACITY, 'server at capacity', req);
    }
    if (!originAllowed(req)) return refuse(socket, UpgradeStatus.FORBIDDEN, 'origin not allowed', req);

    pending++;
    let user: AuthUser | null = null;
    try {
      user = await authenticate(req);
    } catch (error) {
      if (isSwitchboardError(error) && error.code === 'BAD_REQUEST') {
        return refuse(socket, UpgradeStatus.BAD_REQUEST, error.message, req);
      }
      logger.info({ reason: (error as Error).message, url: redactUrl(req.url) }, 'authentication failed');
    } finally {
      pending--;
    }
    if (!user) return refuse(socket, UpgradeStatus.UNAUTHORIZED, 'missing or invalid credentials', req);
    // Counted after authentication (only then is the user known) and with no await until `onConnection`
    // registers the socket, so concurrent upgrades of one user cannot all pass the same count.
    if (deps.connectionsOfUser(user.userId) >= options.maxConnectionsPerUser) {
      return refuse(
        socket,
        UpgradeStatus.TOO_MANY_CONNECTIONS,
        `too many connections for this user (limit ${options.maxConnectionsPerUser}): close one first`,
        req,
      );
    }
    if (socket.destroyed) return;
    // Removed before the switch: a listener left on the socket would keep this request (and its URL with
    // the token) alive for as long as the connection lasts.
    socket.off('error', destroyOnError);
    const authenticated = user;
    deps.wss.handleUpgrade(req, socket, head, (ws) => deps.onConnection(ws, req, authenticated));
  }

  return async (req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    // Until ws takes the socket over: an error during the checks must not crash the process.
    const destroyOnError = () => socket.destroy();
    socket.on('error', destroyOnError);
    try {
      await handle(req, socket, head, destroyOnError);
    } catch (error) {
      logger.warn({ err: error, url: redactUrl(req.url) }, 'upgrade failed');
      refuse(socket, 500, 'internal error', req);
    }
  };
}
