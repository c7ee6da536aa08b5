import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { redisAddress } from './redisErrorReason.ts';
import { createHealth, type Health } from './redisHealth.ts';
import type { ResolvedRedisBrokerOptions } from './redisOptions.ts';

/**
 * The broker's two Redis connections: one for commands (auto-pipelined) and one dedicated to pub/sub,
 * on a single node or a Cluster (then with sharded pub/sub: one subscriber connection per shard).
 *
 * Both are set up to fail fast rather than queue: no offline queue, no resending of commands that were
 * in flight when a connection dropped (a resent publish could be stored twice, or after its caller was
 * told it failed), a command timeout for a stalled Redis, and reconnects with full-jitter backoff.
 */
export interface RedisClients {
  readonly command: Redis | Cluster;
  readonly sharded: boolean;
  readonly health: Health;
  /** Subscribes pub/sub channels on the subscriber connection; resolves once Redis confirmed. */
  subscribe(pubsub: readonly string[]): Promise<void>;
  unsubscribe(pubsub: readonly string[]): Promise<void>;
  /**
   * Called after every (re)connection of the subscriber. On a single node the caller must subscribe its
   * channels again (`resubscribe`); on a Cluster ioredis restores them itself.
   */
  onSubscriberReady(listener: () => void): void;
  /** Subscribes again after a reconnection; a no-op on a Cluster, whose client does it. */
  resubscribe(pubsub: readonly string[]): Promise<void>;
  onMessage(listener: (pubsub: string, message: string) => void): void;
  /** Redis's clock now, in ms, estimated from the offset measured when the command connection got ready. */
  redisNow(): number;
  /** How far `redisNow()` may be off, in ms (half the round trip of the measurement). */
  readonly clockErrorMs: number;
  close(): void;
}

/** Channels per SUBSCRIBE command when restoring many at once. */
const SUBSCRIBE_BATCH = 1000;

export function createRedisClients(options: ResolvedRedisBrokerOptions, logger: Logger): RedisClients {
  const { commandTimeoutMs, maxReconnectDelayMs, instanceId } = options;
  const urls = typeof options.url === 'string' ? [options.url] : [...options.url];
  // Full jitter (AWS architecture blog, "Exponential Backoff and Jitter"): instances reconnect spread out.
  const retryStrategy = (attempt: number) =>
    10 + Math.floor(Math.random() * Math.min(maxReconnectDelayMs, 50 * 2 ** Math.min(attempt, 16)));
  const failFast: RedisOptions = {
    commandTimeout: commandTimeoutMs,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: false,
  };
  let command: Redis | Cluster;
  let subscriber: Redis | Cluster;
  if (options.cluster) {
    const base: ClusterOptions = {
      ...options.clusterOptions,
      enableOfflineQueue: false,
      clusterRetryStrategy: retryStrategy,
      redisOptions: { ...options.redisOptions, ...failFast, connectionName: `sb-${instanceId}` },
    };
    command = new Cluster(urls, { ...base, enableAutoPipelining: true });
    subscriber = new Cluster(urls, { ...base, shardedSubscribers: true });
  } else {
    const base: RedisOptions = {
      ...options.redisOptions,
      ...failFast,
      enableOfflineQueue: false,
      retryStrategy,
    };
    command = new Redis(urls[0]!, {
      ...base,
      connectionName: `sb-${instanceId}`,
      enableAutoPipelining: true,
    });
    subscriber = new Redis(urls[0]!, { ...base, connectionName: `sb-${instanceId}-sub` });
  }
  const sharded = options.cluster;

  let clockOffsetMs = 0;
  let clockErrorMs = 0;
  let clockMeasured = false;
  const health = createHealth(
    () => clockMeasured && command.status === 'ready' && subscriber.status === 'ready',
    logger,
    redisAddress(urls),
  );

  /** Measures Redis's clock; the publish deadline and presence expiry are in Redis time. */
  async function measureClock() {
    const sentAt = Date.now();
    const [seconds, micros] = await command.time();
    const receivedAt = Date.now();
    clockOffsetMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) - (sentAt + receivedAt) / 2;
    clockErrorMs = Math.ceil((receivedAt - sentAt) / 2);
    clockMeasured = true;
    health.commandSucceeded();
    health.connectionsChanged();
  }

  function commandOnReady() {
    measureClock().catch((error) => health.commandFailed(error));
  }
  const connectionsChanged = () => health.connectionsChanged();
  const connectionsOnError = (error: unknown) => health.connectionsChanged(error);
  for (const client of [command, subscriber]) {
    // Without an 'error' listener ioredis prints every failed reconnect to stderr ("[ioredis] Unhandled
    // error event"); the health reports them through the logger instead, once per distinct reason. A
    // Cluster's node and sharded-subscriber connections report to the Cluster (`node error`, then this
    // 'error' with `lastNodeError` once no node answers), so these two listeners cover every connection.
    client.on('error', connectionsOnError);
    for (const event of ['ready', 'close', 'reconnecting', 'end']) client.on(event, connectionsChanged);
  }
  command.on('ready', commandOnReady);

  // A stalled Redis is only noticed through timeouts, and only a command that succeeds shows it is back:
  // probe while the connections look fine but commands failed.
  const probeTimer = setInterval(
    () => {
      if (health.status !== 'unavailable' || command.status !== 'ready') return;
      if (!clockMeasured) {
        commandOnReady();
        return;
      }
      command.ping().then(
        () => health.commandSucceeded(),
        (error) => health.commandFailed(error),
      );
    },
    Math.min(1000, commandTimeoutMs),
  );
  probeTimer.unref();

  function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${what} timed out after ${commandTimeoutMs} ms`)),
        commandTimeoutMs,
      );
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  async function subscribe(pubsub: readonly string[]) {
    if (sharded) {
      // A sharded subscription is per shard: channels are sent one by one so each goes to its own node.
      await withTimeout(Promise.all(pubsub.map((channel) => subscriber.ssubscribe(channel))), 'SSUBSCRIBE');
      return;
    }
    for (let i = 0; i < pubsub.length; i += SUBSCRIBE_BATCH) {
      await subscriber.subscribe(...pubsub.slice(i, i + SUBSCRIBE_BATCH));
    }
  }

  return {
    command,
    sharded,
    health,
    subscribe,
    async unsubscribe(pubsub) {
      if (pubsub.length === 0) return;
      if (sharded)
        await withTimeout(
          Promise.all(pubsub.map((channel) => subscriber.sunsubscribe(channel))),
          'SUNSUBSCRIBE',
        );
      else await subscriber.unsubscribe(...pubsub);
    },
    onSubscriberReady(listener) {
      subscriber.on(sharded ? 'subscribersReady' : 'ready', listener);
    },
    async resubscribe(pubsub) {
      if (!sharded) await subscribe(pubsub);
    },
    onMessage(listener) {
      subscriber.on(sharded ? 'smessage' : 'message', listener);
    },
    redisNow: () => Date.now() + clockOffsetMs,
    get clockErrorMs() {
      return clockErrorMs;
    },
    close() {
      clearInterval(probeTimer);
      health.close();
      command.disconnect();
      subscriber.disconnect();
    },
  };
}
