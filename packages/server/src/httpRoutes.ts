import type { Logger } from 'pino';
import type { HttpRoute } from './httpHandler.ts';
import { createHttpTransport } from './httpTransport.ts';
import type { ResolvedServerOptions } from './options.ts';
import type { ConnectionCounts } from './registry.ts';
import type { ServerServices } from './serverServices.ts';
import { createSseStreams, type SseStreams } from './sseStreams.ts';
import { createTicketIssuer, type TicketIssuer } from './ticket.ts';
import { createTicketRoute } from './ticketRoute.ts';

/** The HTTP side of one server (issue 14): its own routes, the SSE streams they hold, connection tickets. */
export interface HttpRoutes {
  /** Tried before `onHttpRequest`; empty unless `httpTransport` is on. */
  readonly routes: readonly HttpRoute[];
  /** Open SSE streams: counted with WebSockets against the connection limits, ended on `close()`. */
  readonly sseStreams: SseStreams;
  /** WebSocket connections and SSE streams together (see `ConnectionCounts`). */
  readonly connections: ConnectionCounts;
  /** Connection tickets, also redeemed at the WebSocket upgrade; undefined unless `httpTransport` is on. */
  readonly tickets: TicketIssuer | undefined;
}

/**
 * Builds the server's own HTTP routes: with `httpTransport`, the ticket route (`ticketPath`) and the same
 * router over HTTP + SSE (`httpPath`, see `httpTransport.ts`). `isAccepting` turns requests away while
 * the server drains.
 */
export function createHttpRoutes(deps: {
  options: ResolvedServerOptions;
  core: ServerServices;
  logger: Logger;
  isAccepting(): boolean;
}): HttpRoutes {
  const { options, core, logger } = deps;
  // Always built: the connection count and the shutdown read it (empty without the HTTP transport).
  const sseStreams = createSseStreams({
    slowConsumerBytes: options.slowConsumerBytes,
    ssePingIntervalMs: options.ssePingIntervalMs,
    stats: core.metrics.stats,
    logger,
    onAlive: core.refreshPresence,
  });
  const { registry } = core;
  const connections: ConnectionCounts = {
    total: () => registry.size + sseStreams.size,
    ofUser: (userId) => registry.countByUser(userId) + sseStreams.countByUser(userId),
  };
  if (!options.httpTransport) return { routes: [], sseStreams, connections, tickets: undefined };

  const tickets = createTicketIssuer({
    ttlMs: options.ticketTtlMs,
    secret: options.authenticate ? undefined : options.jwt.secret,
  });
  const { verifyToken } = core;
  const routes = [
    createTicketRoute({ options, verifyToken, tickets, logger }),
    createHttpTransport({
      router: options.router,
      options,
      verifyToken,
      tickets,
      fanout: core.fanout,
      presence: core.presence,
      connections,
      sseStreams,
      services: core.services,
      stats: core.metrics.stats,
      logger,
      isAccepting: deps.isAccepting,
    }),
  ];
  return { routes, sseStreams, connections, tickets };
}
