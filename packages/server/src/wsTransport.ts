import type { IncomingMessage, Server } from 'node:http';
import type { Logger } from 'pino';
import { type WebSocket, WebSocketServer } from 'ws';
import type { AuthUser } from './auth.ts';
import { createConnectionHandler } from './connection.ts';
import { redactUrl } from './logger.ts';
import type { ResolvedServerOptions } from './options.ts';
import type { ConnectionCounts } from './registry.ts';
import type { ServerServices } from './serverServices.ts';
import type { TicketIssuer } from './ticket.ts';
import { createUpgradeHandler } from './upgrade.ts';

export interface WsTransportDeps {
  options: ResolvedServerOptions;
  core: ServerServices;
  logger: Logger;
  /** Connection tickets (`?ticket=`), when the server issues them. */
  tickets: TicketIssuer | undefined;
  /** False while draining: upgrades are refused with 503. */
  isAccepting(): boolean;
  /** Connections open now on both transports (`maxConnections`, `maxConnectionsPerUser`). */
  connections: ConnectionCounts;
}

/** The WebSocket transport of one server, for its shutdown. */
export interface WsTransport {
  /** Closes the WebSocket server (after the drain, when no connection is left). */
  close(): void;
}

/**
 * Serves WebSockets on `httpServer`'s `upgrade` event: the checks before the switch (`upgrade.ts`), then
 * each authenticated socket becomes a connection (`connection.ts`) kept in the registry until it closes.
 * Opens and closes are logged at info and closes counted by close code.
 */
export function attachWsTransport(httpServer: Server, deps: WsTransportDeps): WsTransport {
  const { options, core, logger } = deps;
  const { registry, metrics } = core;
  // perMessageDeflate off: its per-socket zlib memory is the first thing to go at 10k sockets.
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxFrameBytes,
    perMessageDeflate: false,
    clientTracking: false,
  });

  const openConnection = createConnectionHandler({
    router: options.router,
    fanout: core.fanout,
    presence: core.presence,
    stats: metrics.stats,
    logger,
    options,
    services: core.services,
    onClosed(closed, code, reason) {
      registry.remove(closed.id);
      metrics.closes.inc({ code: String(code) });
      logger.info({ connectionId: closed.id, userId: closed.user.userId, code, reason }, 'connection closed');
    },
  });

  function onConnection(socket: WebSocket, req: IncomingMessage, user: AuthUser) {
    const connection = openConnection(socket, user);
    registry.add(connection);
    // Checked first: the fields cost a URL parse and a getpeername syscall per connect even when unlogged.
    if (!logger.isLevelEnabled('info')) return;
    logger.info(
      {
        connectionId: connection.id,
        userId: user.userId,
        url: redactUrl(req.url),
        ip: req.socket.remoteAddress,
      },
      'connection opened',
    );
  }

  httpServer.on(
    'upgrade',
    createUpgradeHandler({
      wss,
      options,
      verifyToken: core.verifyToken,
      ...(deps.tickets ? { tickets: deps.tickets } : {}),
      metrics,
      logger,
      isAccepting: deps.isAccepting,
      connectionCount: deps.connections.total,
      connectionsOfUser: deps.connections.ofUser,
      onConnection,
    }),
  );

  return { close: () => wss.close() };
}
