import type { ClusterOptions, RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { type HistoryOptions, historyDefaults, resolveHistoryOptions } from './historyOptions.ts';

/**
 * Options of `createRedisBroker`. Every number carries its unit; defaults live in `redisBrokerDefaults`
 * (history ones in `historyDefaults`) and nowhere else.
 *
 * Key layout (all keys of a channel share one hash tag, so they live on one Cluster shard):
 * `<keyPrefix>:{<channel>}:stream` (events), `<keyPrefix>:{<channel>}:epoch` (stream epoch),
 * `<keyPrefix>:{<channel>}:idem` and `:idem-order` (idempotency records),
 * `<keyPrefix>:{<channel>}:presence` (connectionId → member JSON), pub/sub channel `<keyPrefix>:{<channel>}`.
 * Every one of them expires: the history keys twice `historyMaxAgeMs` after the channel's last publish or
 * last use by a subscribed instance (`channelKeyTtlMs`), presence after `presenceTtlMs`.
 */
export interface RedisBrokerOptions extends HistoryOptions {
  /**
   * Where Redis is: `redis://[:password@]host:port[/db]` (or `rediss://` for TLS). With `cluster: true`,
   * one or more seed nodes of the cluster (a list, or one URL).
   * @default 'redis://127.0.0.1:6379'
   */
  url?: string | readonly string[];
  /**
   * The URL points at a Redis Cluster: use ioredis `Cluster` and sharded pub/sub (`SSUBSCRIBE`/`SPUBLISH`,
   * Redis 7). Hash tags keep a channel's keys and its pub/sub channel on one shard.
   * @default false
   */
  cluster?: boolean;
  /** Prefix of every key and pub/sub channel, so several apps can share one Redis. @default 'sb' */
  keyPrefix?: string;
  /**
   * Stored events kept per channel. The stream is trimmed with `MAXLEN ~` (Redis may keep a few more);
   * `history()` serves exactly this many, like the memory broker. 0 stores nothing (every event is
   * delivered live only and has no id).
   * @default 1000
   */
  historySize?: number;
  /**
   * Stored events older than this are dropped, in ms (`XTRIM MINID ~`, and `history()` treats older events
   * as evicted). A channel's keys expire twice this long after its last publish or after the last
   * instance stopped subscribing it; a resume after that gets `epoch-changed`. Also the idempotency window.
   * @default 86400000 (24 h)
   */
  historyMaxAgeMs?: number;
  /**
   * A command that has not answered within this time fails (publishes reject with BROKER_UNAVAILABLE). A
   * publish that reaches a stalled Redis after its caller gave up is refused by the script, so a rejected
   * publish is never stored later.
   * @default 2000
   */
  commandTimeoutMs?: number;
  /** Longest wait between reconnect attempts, in ms (attempts back off with full jitter up to this). @default 2000 */
  maxReconnectDelayMs?: number;
  /**
   * How often each subscribed channel's last delivered id is compared with the stream head, in ms; a
   * difference is repaired from the stream (a pub/sub message lost at the end of a burst has no
   * successor to reveal the gap). The same round refreshes the TTL of the channel's keys, so it must not
   * exceed `historyMaxAgeMs`.
   * @default 3000
   */
  positioningIntervalMs?: number;
  /** A presence entry not refreshed for this long belongs to a dead instance and expires, in ms. @default 30000 */
  presenceTtlMs?: number;
  /**
   * How often expired presence entries are removed (and their leaves reported through `onExpired`), in ms.
   * This instance's own entries are rewritten every `presenceTtlMs / 3`.
   * @default 5000
   */
  presenceSweepIntervalMs?: number;
  /** Identifies this instance in presence entries and Redis client names. @default a random id */
  instanceId?: string;
  /** Logs connection state changes (once per change, never per message). @default silent */
  logger?: Logger;
  /** Extra ioredis options (TLS, username, ...). Options the broker depends on are always its own. */
  redisOptions?: RedisOptions;
  /** Extra ioredis Cluster options (NAT map, slots refresh, ...), with `cluster: true`. */
  clusterOptions?: ClusterOptions;
  /**
   * Test hook: return true to discard an incoming pub/sub message as if Redis had lost it, to prove that
   * the broker repairs the gap. Never set in production.
   */
  dropIncomingMessage?: (channel: string, eventId: string | undefined) => boolean;
}

/** Options with a default; the others (`logger`, ...) are off when unset. */
type Defaulted =
  | 'url'
  | 'cluster'
  | 'keyPrefix'
  | 'historySize'
  | 'historyMaxAgeMs'
  | 'commandTimeoutMs'
  | 'maxReconnectDelayMs'
  | 'positioningIntervalMs'
  | 'presenceTtlMs'
  | 'presenceSweepIntervalMs';

export const redisBrokerDefaults = {
  url: 'redis://127.0.0.1:6379',
  cluster: false,
  keyPrefix: 'sb',
  ...historyDefaults,
  commandTimeoutMs: 2000,
  maxReconnectDelayMs: 2000,
  positioningIntervalMs: 3000,
  presenceTtlMs: 30_000,
  presenceSweepIntervalMs: 5000,
} satisfies Required<Pick<RedisBrokerOptions, Defaulted>>;

export type ResolvedRedisBrokerOptions = Omit<RedisBrokerOptions, Defaulted | 'instanceId'> &
  Required<Pick<RedisBrokerOptions, Defaulted | 'instanceId'>>;

const positiveNumbers = [
  'commandTimeoutMs',
  'maxReconnectDelayMs',
  'positioningIntervalMs',
  'presenceTtlMs',
  'presenceSweepIntervalMs',
] as const;

/** Merges defaults and rejects bad combinations with a message that names the fix. */
export function resolveRedisBrokerOptions(options: RedisBrokerOptions): ResolvedRedisBrokerOptions {
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const resolved: ResolvedRedisBrokerOptions = {
    ...redisBrokerDefaults,
    instanceId: Math.random().toString(36).slice(2, 10),
    ...defined,
  };
  for (const key of positiveNumbers) {
    const value = resolved[key];
    if (!Number.isFinite(value) || value <= 0) {
      throw new TypeError(`createRedisBroker: ${key} must be a positive number, got ${value}`);
    }
  }
  resolveHistoryOptions(resolved, 'createRedisBroker');
  if (resolved.positioningIntervalMs > resolved.historyMaxAgeMs) {
    throw new TypeError(
      `createRedisBroker: positioningIntervalMs (${resolved.positioningIntervalMs}) must not exceed historyMaxAgeMs (${resolved.historyMaxAgeMs}): it keeps subscribed channels' keys alive`,
    );
  }
  if (resolved.presenceSweepIntervalMs >= resolved.presenceTtlMs) {
    throw new TypeError(
      `createRedisBroker: presenceSweepIntervalMs (${resolved.presenceSweepIntervalMs}) must be below presenceTtlMs (${resolved.presenceTtlMs})`,
    );
  }
  if (/[{}\s]/.test(resolved.keyPrefix)) {
    throw new TypeError(
      `createRedisBroker: keyPrefix must not contain braces or whitespace, got "${resolved.keyPrefix}"`,
    );
  }
  const urls = typeof resolved.url === 'string' ? [resolved.url] : resolved.url;
  if (urls.length === 0 || (!resolved.cluster && urls.length > 1)) {
    throw new TypeError('createRedisBroker: give one url, or several seed urls with cluster: true');
  }
  return resolved;
}
