import { randomUUID } from 'node:crypto';
import { createChannelCatalog } from '@switchboard/protocol';
import type { Logger } from 'pino';
import { createTokenVerifier, type TokenVerifier } from './auth.ts';
import type { Broker } from './broker/broker.ts';
import { createMemoryBroker } from './broker/memory.ts';
import { createChannelAccess } from './channelAccess.ts';
import { type ChannelService, createChannelService } from './channels.ts';
import { createFanout, type Fanout } from './fanout.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import type { ResolvedServerOptions } from './options.ts';
import { createPresence, type Presence } from './presence.ts';
import { createRegistry, type Registry } from './registry.ts';
import type { SwitchboardServices } from './router.ts';
import { createTokenRefresh } from './tokenRefresh.ts';

/** What both transports of one server serve: built once, before any transport. */
export interface ServerServices {
  readonly instanceId: string;
  readonly broker: Broker;
  /** True when the server created its broker (no `broker` option), and so closes it on `close()`. */
  readonly ownsBroker: boolean;
  readonly metrics: Metrics;
  /** Live WebSocket connections of this instance. */
  readonly registry: Registry;
  readonly presence: Presence;
  readonly fanout: Fanout;
  readonly channels: ChannelService;
  /** The JWT verifier; undefined with a custom `authenticate`, which then owns credentials. */
  readonly verifyToken: TokenVerifier | undefined;
  /** `ctx.switchboard` of every procedure, on both transports. */
  readonly services: SwitchboardServices;
  /**
   * Moves the presence entries of connections or SSE streams that proved alive (the heartbeat's and the SSE
   * ping's round); a broker failure is logged, not thrown, because the next round retries.
   */
  refreshPresence(holderIds: string[]): void;
}

/** Assembles the services of one server from its resolved options; starts no timer and opens no socket. */
export function createServerServices(options: ResolvedServerOptions, logger: Logger): ServerServices {
  const instanceId = options.instanceId ?? randomUUID().slice(0, 8);
  const broker = options.broker ?? createMemoryBroker();
  const catalog = createChannelCatalog(options.channels);
  const metrics = createMetrics(instanceId);
  const registry = createRegistry();
  const presence = createPresence(broker, logger);
  const fanout = createFanout(broker, metrics.stats);
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
  return {
    instanceId,
    broker,
    ownsBroker: options.broker === undefined,
    metrics,
    registry,
    presence,
    fanout,
    channels,
    verifyToken,
    services: { channels, registry, instanceId, refreshToken: createTokenRefresh(registry, verifyToken) },
    refreshPresence(holderIds) {
      broker.presence.refresh(holderIds).catch((err) => logger.warn({ err }, 'presence refresh failed'));
    },
  };
}
