import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { ErrorCode, isSwitchboardError, UpgradeStatus } from '@switchboard/protocol';
import type { Logger } from 'pino';
import type { WebSocket, WebSocketServer } from 'ws';
import type { AuthUser, TokenVerifier } from './auth.ts';
import { authenticateRequest } from './httpAuth.ts';
import { redactUrl } from './logger.ts';
import type { Metrics } from './metrics.ts';
import type { ResolvedServerOptions } from './options.ts';
import { isOriginAllowed } from './origin.ts';
import { parseRequestTarget } from './requestDecoding.ts';
import type { TicketIssuer } from './ticket.ts';

export interface UpgradeDeps {
  wss: WebSocketServer;
  options: ResolvedServerOptions;
  verifyToken: TokenVerifier | undefined;
  /** Connection tickets (`?ticket=`), when the server issues them. */
  tickets?: TicketIssuer;
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

  /** Answers `status` with `{ error }` and closes the socket; returns null (no user) for `check`. */
  function refuse(socket: Duplex, status: number, error: string, req: IncomingMessage): null {
    metrics.upgradeRejections.inc({ status: String(status) });
    logger.info({ status, error, url: redactUrl(req.url), origin: req.headers.origin }, 'upgrade refused');
    if (socket.destroyed) return null;
    const body = JSON.stringify({ error });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    socket.destroy();
    return null;
  }

  /** The user of the request; a malformed target or cookie is a BAD_REQUEST, refused with 400. */
  function authenticate(req: IncomingMessage): Promise<AuthUser | null> {
    return authenticateRequest(req, { options, verifyToken: deps.verifyToken, tickets: deps.tickets });
  }

  /** The checks up to authentication: the user, or null once the socket was refused. */
  async function check(req: IncomingMessage, socket: Duplex): Promise<AuthUser | null> {
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
    if (!isOriginAllowed(req, options.allowedOrigins))
      return refuse(socket, UpgradeStatus.FORBIDDEN, 'origin not allowed', req);
    pending++;
    let user: AuthUser | null = null;
    try {
      user = await authenticate(req);
    } catch (error) {
      if (isSwitchboardError(error) && error.code === ErrorCode.BAD_REQUEST) {
        return refuse(socket, UpgradeStatus.BAD_REQUEST, error.message, req);
      }
      logger.info({ reason: (error as Error).message, url: redactUrl(req.url) }, 'authentication failed');
    } finally {
      pending--;
    }
    return user ?? refuse(socket, UpgradeStatus.UNAUTHORIZED, 'missing or invalid credentials', req);
  }

  return async (req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    // Until ws takes the socket over: an error during the checks must not crash the process.
    const destroyOnError = () => socket.destroy();
    socket.on('error', destroyOnError);
    let switched = false;
    try {
      const user = await check(req, socket);
      if (!user || socket.destroyed) return;
      // Counted here, after authentication (only then is the user known), and with no await until
      // `onConnection` has registered the socket: concurrent upgrades of one user cannot pass the same count.
      if (deps.connectionsOfUser(user.userId) >= options.maxConnectionsPerUser) {
        const limit = options.maxConnectionsPerUser;
        const reason = `too many connections for this user (limit ${limit}): close one first`;
        refuse(socket, UpgradeStatus.TOO_MANY_CONNECTIONS, reason, req);
        return;
      }
      // Removed before the switch: a listener left on the socket would keep this request (and its URL with
      // the token) alive for as long as the connection lasts.
      socket.off('error', destroyOnError);
      switched = true;
      deps.wss.handleUpgrade(req, socket, head, (ws) => deps.onConnection(ws, req, user));
    } catch (error) {
      logger.warn({ err: error, url: redactUrl(req.url) }, 'upgrade failed');
      // After the 101 an HTTP answer would be garbage on a WebSocket: just drop the connection.
      if (switched) socket.destroy();
      else refuse(socket, 500, 'internal error', req);
    }
  };
}
