import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CloseCode,
  createChannelCatalog,
  ErrorCode,
  type PublishOutput,
  SwitchboardError,
} from '@switchboard/protocol';
import { WebSocketServer } from 'ws';
import { type AuthUser, createTokenVerifier } from './auth.ts';
import type { Broker } from './broker/broker.ts';
import { createMemoryBroker } from './broker/memory.ts';
import { createChannelAccess } from './channelAccess.ts';
import { type ChannelService, createChannelService, type PublishOptions } from './channels.ts';
import { createConnectionHandler } from './connection.ts';
import { startExpirySweep } from './expiry.ts';
import { createFanout } from './fanout.ts';
import { startHeartbeat } from './heartbeat.ts';
import { createHttpHandler, type HttpRoute } from './httpHandler.ts';
import { createHttpTransport } from './httpTransport.ts';
import { listenError } from './listenError.ts';
import { createDefaultLogger, redactUrl } from './logger.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { resolveServerOptions, type ServerOptions } from './options.ts';
import { createPresence } from './presence.ts';
import { createRegistry, type Registry } from './registry.ts';
import type { SwitchboardServices } from './router.ts';
import { createServerChannels, type ServerChannels } from './serverChannel.ts';
import { drainConnections } from './shutdown.ts';
import { createSseStreams } from './sseStreams.ts';
import { createTicketIssuer } from './ticket.ts';
import { createTicketRoute } from './ticketRoute.ts';
import { createUpgradeHandler } from './upgrade.ts';

/** After the drain, how long in-flight HTTP requests get before the remaining sockets are closed, in ms. */
const HTTP_CLOSE_GRACE_MS = 500;

export interface SwitchboardServer extends ServerChannels {
  /** The HTTP server: add your routes with `onHttpRequest`, or attach it to your own framework. */
  readonly httpServer: Server;
  readonly broker: Broker;
  readonly registry: Registry;
  readonly metrics: Metrics;
  readonly channels: ChannelService;
  readonly instanceId: string;
  /** True while accepting connections (false once `close()` started): what `/readyz` reports. */
  readonly accepting: boolean;
  /**
   * Starts listening; resolves with the bound port (useful with port 0). Rejects with an error naming the
   * address and what to do (`port 3000 on 127.0.0.1 is already in use: ...`), its `code` kept (`EADDRINUSE`).
   */
  listen(port: number, host?: string): Promise<{ port: number; host: string }>;
  /**
   * Publishes as the server, validated against the channel's definition. With `idempotencyKey`, a retry
   * (after a timeout, on any instance sharing the broker) is stored once and answered with the first id.
   */
  publish(channel: string, type: string, payload: unknown, options?: PublishOptions): Promise<PublishOutput>;
  /** Publishes on the user's private `user:<userId>` channel, on every instance. */
  sendToUser(
    userId: string,
    type: string,
    payload: unknown,
    options?: PublishOptions,
  ): Promise<PublishOutput>;
  /** Graceful shutdown: refuse upgrades, ask clients to reconnect, close with 1001 after the drain timeout. */
  close(): Promise<void>;
}

/**
 * Creates a Switchboard server: tRPC over `ws` with authentication before the upgrade, channels with
 * history and presence, heartbeat, limits and graceful shutdown.
 */
export function createSwitchboardServer(serverOptions: ServerOptions): SwitchboardServer {
  const options = resolveServerOptions(serverOptions);
  const logger = options.logger ?? createDefaultLogger();
  const instanceId = options.instanceId ?? randomUUID().slice(0, 8);
  const ownsBroker = options.broker === undefined;
  const broker = options.broker ?? createMemoryBroker();
  const catalog = createChannelCatalog(options.channels);
  const metrics = createMetrics(instanceId);
  const { stats } = metrics;
  const registry = createRegistry();
  const presence = createPresence(broker, logger);
  const fanout = createFanout(broker, stats);
  const channels = createChannelService({
    access: createChannelAccess(catalog, {
      canSubscribe: options.canSubscribe,
      canPublish: options.canPublish,
    }),
    broker,
    presence,
    registry,
    metrics,
    catalog,
  });
  const verifyToken = options.authenticate ? undefined : createTokenVerifier(options.jwt);
  let accepting = true;
  let closing: Promise<void> | undefined;

  const services: SwitchboardServices = {
    channels,
    registry,
    instanceId,
    async refreshToken(connectionId, token) {
      const connection = registry.get(connectionId);
      if (!verifyToken || !connection)
        throw new SwitchboardError(ErrorCode.BAD_REQUEST, 'token refresh is not available');
      let user: AuthUser;
      try {
        user = await verifyToken(token);
      } catch (cause) {
        throw new SwitchboardError(ErrorCode.UNAUTHORIZED, 'invalid token', { cause });
      }
      if (user.userId !== connection.user.userId) {
        throw new SwitchboardError(ErrorCode.FORBIDDEN, 'a refreshed token must be for the same user');
      }
      // The expiry sweep reads the new expiry from here.
      connection.user = user;
      return user;
    },
  };

  // The HTTP transport (issue 14): the same router over HTTP + SSE, and connection tickets.
  const sseStreams = createSseStreams({
    slowConsumerBytes: options.slowConsumerBytes,
    ssePingIntervalMs: options.ssePingIntervalMs,
    stats,
    logger,
    onAlive: (ids) => {
      broker.presence.refresh(ids).catch((err) => logger.warn({ err }, 'presence refresh failed'));
    },
  });
  // Read when metrics are collected: WebSocket connections and SSE streams, whichever opened or closed.
  Object.defineProperty(stats, 'connections', {
    get: () => registry.size + sseStreams.size,
    enumerable: true,
  });
  const tickets = options.httpTransport
    ? createTicketIssuer({
        ttlMs: options.ticketTtlMs,
        secret: options.authenticate ? undefined : options.jwt.secret,
      })
    : undefined;
  const routes: HttpRoute[] = [];
  if (tickets) {
    routes.push(
      createTicketRoute({ options, verifyToken, tickets, logger }),
      createHttpTransport({
        router: options.router,
        options,
        verifyToken,
        tickets,
        fanout,
        presence,
        registry,
        sseStreams,
        services,
        stats,
        logger,
        isAccepting: () => accepting,
      }),
    );
  }
  const httpServer = createServer(createHttpHandler(options.onHttpRequest, logger, routes));
  // perMessageDeflate off: its per-socket zlib memory is the first thing to go at 10k sockets.
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxFrameBytes,
    perMessageDeflate: false,
    clientTracking: false,
  });

  const openConnection = createConnectionHandler({
    router: options.router,
    fanout,
    presence,
    stats,
    logger,
    options,
    services,
    onClosed(closed, code, reason) {
      registry.remove(closed.id);
      metrics.closes.inc({ code: String(code) });
      logger.info({ connectionId: closed.id, userId: closed.user.userId, code, reason }, 'connection closed');
    },
  });

  function onConnection(socket: import('ws').WebSocket, req: IncomingMessage, user: AuthUser) {
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
      verifyToken,
      ...(tickets ? { tickets } : {}),
      metrics,
      logger,
      isAccepting: () => accepting,
      // SSE streams are connections too: both transports share maxConnections and maxConnectionsPerUser.
      connectionCount: () => registry.size + sseStreams.size,
      connectionsOfUser: (userId) => registry.countByUser(userId) + sseStreams.countByUser(userId),
      onConnection,
    }),
  );

  const heartbeat = startHeartbeat(registry, {
    heartbeatIntervalMs: options.heartbeatIntervalMs,
    heartbeatTimeoutMs: options.heartbeatTimeoutMs,
    onAlive: (ids) => {
      broker.presence.refresh(ids).catch((err) => logger.warn({ err }, 'presence refresh failed'));
    },
    onDead: (connection) =>
      logger.info(
        { connectionId: connection.id, userId: connection.user.userId },
        'heartbeat timeout: terminating',
      ),
  });
  const expiry = startExpirySweep(registry, options.tokenExpiryCheckIntervalMs, logger);
  const sweep = setInterval(() => {
    for (const stale of registry.sweep()) stale.dispose();
  }, options.registrySweepIntervalMs);
  sweep.unref();

  function publish(channel: string, type: string, payload: unknown, publishOptions?: PublishOptions) {
    return channels.publishAsServer(channel, type, payload, publishOptions);
  }

  return {
    httpServer,
    broker,
    registry,
    metrics,
    channels,
    instanceId,
    get accepting() {
      return accepting;
    },
    listen(port, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        const listenOnError = (error: NodeJS.ErrnoException) => reject(listenError(error, port, host));
        httpServer.once('error', listenOnError);
        httpServer.listen(port, host, () => {
          httpServer.off('error', listenOnError);
          const address = httpServer.address() as AddressInfo;
          logger.info({ port: address.port, host, instanceId }, 'listening');
          resolve({ port: address.port, host });
        });
      });
    },
    publish,
    ...createServerChannels(publish),
    sendToUser: (userId, type, payload, publishOptions) =>
      publish(`user:${userId}`, type, payload, publishOptions),
    close() {
      closing ??= (async () => {
        accepting = false;
        heartbeat.stop();
        expiry.stop();
        clearInterval(sweep);
        await drainConnections(registry, options.drainTimeoutMs, logger);
        // SSE clients reconnect on their own when their stream ends, to another instance.
        sseStreams.stop();
        sseStreams.endAll();
        await new Promise<void>((resolve) => {
          httpServer.close(() => resolve());
          // `close()` ends idle keep-alive sockets but waits for one that never sent a request (EventSource
          // clients and browsers open those ahead) until its timeout: those get a short grace, then go.
          setTimeout(() => httpServer.closeAllConnections(), HTTP_CLOSE_GRACE_MS).unref();
        });
        wss.close();
        if (ownsBroker) await broker.close();
        logger.info({ instanceId, code: CloseCode.GOING_AWAY }, 'server closed');
      })();
      return closing;
    },
  };
}
