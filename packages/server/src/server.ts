import { createServer, type Server } from 'node:http';
import type { PublishOutput } from '@switchboard/protocol';
import type { Broker } from './broker/broker.ts';
import type { ChannelService, PublishOptions } from './channels.ts';
import { createHttpHandler } from './httpHandler.ts';
import { createHttpRoutes } from './httpRoutes.ts';
import { startLifecycle } from './lifecycle.ts';
import { createDefaultLogger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import { resolveServerOptions, type ServerOptions } from './options.ts';
import type { Registry } from './registry.ts';
import { createServerChannels, type ServerChannels } from './serverChannel.ts';
import { createServerServices } from './serverServices.ts';
import { attachWsTransport } from './wsTransport.ts';

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
 * history and presence, heartbeat, limits and graceful shutdown. Wiring only: the services both transports
 * serve (`serverServices.ts`), the HTTP routes and SSE streams (`httpRoutes.ts`), the WebSocket transport
 * (`wsTransport.ts`), then the timers, `listen` and `close` (`lifecycle.ts`).
 */
export function createSwitchboardServer(serverOptions: ServerOptions): SwitchboardServer {
  const options = resolveServerOptions(serverOptions);
  const logger = options.logger ?? createDefaultLogger();
  const core = createServerServices(options, logger);
  const { registry, channels } = core;
  // Read per request, after construction: `lifecycle` exists by then, and `close()` turns it false.
  const isAccepting = () => lifecycle.accepting;

  const http = createHttpRoutes({ options, core, logger, isAccepting });
  const { sseStreams, connections } = http;
  // SSE streams are connections too: both transports share maxConnections and maxConnectionsPerUser,
  // and the `connections` gauge counts both.
  Object.defineProperty(core.metrics.stats, 'connections', { get: connections.total, enumerable: true });

  const httpServer = createServer(createHttpHandler(options.onHttpRequest, logger, http.routes));
  const ws = attachWsTransport(httpServer, {
    options,
    core,
    logger,
    tickets: http.tickets,
    isAccepting,
    connections,
  });
  const lifecycle = startLifecycle({ httpServer, options, core, logger, sseStreams, ws });

  function publish(channel: string, type: string, payload: unknown, publishOptions?: PublishOptions) {
    return channels.publishAsServer(channel, type, payload, publishOptions);
  }

  return {
    httpServer,
    broker: core.broker,
    registry,
    metrics: core.metrics,
    channels,
    instanceId: core.instanceId,
    get accepting() {
      return lifecycle.accepting;
    },
    listen: lifecycle.listen,
    publish,
    ...createServerChannels(publish),
    sendToUser: (userId, type, payload, publishOptions) =>
      publish(`user:${userId}`, type, payload, publishOptions),
    close: lifecycle.close,
  };
}
