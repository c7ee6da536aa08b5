import { ErrorCode, SwitchboardError } from '@switchboard/protocol';
import pino from 'pino';
import type { Broker, BrokerStatus, PresenceStore } from './broker.ts';
import { compareEventIds, formatEventId, newEpoch } from './eventId.ts';
import { idempotencyConflict } from './idempotencyConflict.ts';
import { createRedisClients } from './redisClients.ts';
import { readHistory } from './redisHistory.ts';
import { channelKeys, channelKeyTtlMs } from './redisKeys.ts';
import { type RedisBrokerOptions, resolveRedisBrokerOptions } from './redisOptions.ts';
import { createRedisPresence } from './redisPresence.ts';
import { defineScripts } from './redisScripts.ts';
import { createSubscriptions } from './redisSubscriptions.ts';

export type { RedisBrokerOptions } from './redisOptions.ts';
export { redisBrokerDefaults } from './redisOptions.ts';

/** The Redis broker: a `Broker` plus what a host needs to wait for it and watch it. */
export interface RedisBroker extends Broker {
  /**
   * Resolves once Redis answers on both connections; rejects with BROKER_UNAVAILABLE after `timeoutMs`
   * (default: the command timeout). The broker works without awaiting this: calls made while it first
   * connects wait up to the command timeout.
   */
  ready(timeoutMs?: number): Promise<void>;
  /** Calls `listener` on every status change; returns the function that stops it. */
  onStatusChange(listener: (status: BrokerStatus) => void): () => void;
}

/**
 * The Redis broker (`@switchboard/server/redis`): many Switchboard processes on one Redis or Redis Cluster.
 *
 * - Publish is one Lua script: check the idempotency key, get-or-create the channel's epoch,
 *   `XADD ... MAXLEN ~ historySize` (the stream id is the event id), record the key, refresh the channel's
 *   key TTLs (`historyMaxAgeMs`), `PUBLISH` (`SPUBLISH` on a cluster) the event with its id and predecessor.
 * - A channel's keys expire twice `historyMaxAgeMs` after its last publish, or after the last instance
 *   stopped subscribing it (subscribed channels refresh them every `positioningIntervalMs`).
 * - One subscriber connection per instance, one pub/sub subscription per channel with local listeners;
 *   gaps of at-most-once pub/sub are repaired from the stream (see `redisSubscriptions.ts`).
 * - Presence is shared through Redis with an expiry, so a crashed instance's members leave after
 *   `presenceTtlMs` (see `redisPresence.ts`).
 * - While Redis is unreachable or stalled, calls reject with BROKER_UNAVAILABLE within the command timeout.
 */
export function createRedisBroker(options: RedisBrokerOptions = {}): RedisBroker {
  const resolved = resolveRedisBrokerOptions(options);
  const logger = resolved.logger ?? pino({ enabled: false });
  const clients = createRedisClients(resolved, logger);
  const { health } = clients;
  const scripts = defineScripts(clients.command);
  const subscriptions = createSubscriptions(clients, scripts, resolved, logger);
  const presenceStore = createRedisPresence(
    clients,
    scripts,
    resolved,
    () => subscriptions.channels(),
    logger,
  );
  const { historySize, historyMaxAgeMs, commandTimeoutMs } = resolved;
  const keyTtlMs = channelKeyTtlMs(historyMaxAgeMs);

  function unavailable(what: string, cause?: unknown) {
    return new SwitchboardError(ErrorCode.BROKER_UNAVAILABLE, `${what}: Redis unavailable`, { cause });
  }

  /** Runs a command for the caller; failures become BROKER_UNAVAILABLE and feed the status. */
  async function run<T>(what: string, command: () => Promise<T>): Promise<T> {
    if (health.status === 'closed') throw unavailable(what, new Error('broker closed'));
    // While the first connection is being made, wait for it rather than fail at once.
    if (health.status === 'connecting') await health.whenReady(commandTimeoutMs);
    try {
      const result = await command();
      health.commandSucceeded();
      return result;
    } catch (error) {
      health.commandFailed(error);
      throw unavailable(what, error);
    }
  }

  const presence: PresenceStore = {
    join: (channel, entry) => run('presence not joined', () => presenceStore.join(channel, entry)),
    leave: (channel, connectionId) =>
      run('presence not left', () => presenceStore.leave(channel, connectionId)),
    update: (channel, connectionId, meta) =>
      run('presence not updated', () => presenceStore.update(channel, connectionId, meta)),
    list: (channel) => run('presence not listed', () => presenceStore.list(channel)),
    refresh: (connectionIds) => run('presence not refreshed', () => presenceStore.refresh(connectionIds)),
    onExpired: (listener) => presenceStore.onExpired(listener),
  };

  return {
    get status() {
      return health.status;
    },
    get statusReason() {
      return health.reason;
    },
    presence,
    compareIds: compareEventIds,

    async publish(channel, event) {
      const stored = !event.ephemeral && historySize > 0;
      const reply = await run('event not published', () =>
        scripts.publish(channelKeys(resolved.keyPrefix, channel), {
          pubsubCommand: clients.sharded ? 'SPUBLISH' : 'PUBLISH',
          type: event.type,
          json: event.json,
          stored,
          epochCandidate: newEpoch(),
          maxLength: historySize,
          maxAgeMs: historyMaxAgeMs,
          // In Redis time, and early by the clock's uncertainty, so Redis refuses a call the client
          // may already have given up on (see the publish script).
          deadlineMs: clients.redisNow() + commandTimeoutMs - clients.clockErrorMs - 1,
          // Ephemeral events have no id to answer a retry with: their keys are ignored.
          idempotency: stored ? event.idempotency : undefined,
          keyTtlMs,
        }),
      );
      if (!stored || !reply) return {};
      const [epoch, id, outcome] = reply;
      // Thrown outside `run`: a refused key is the caller's error, not a Redis failure.
      if (outcome === 'conflict') throw idempotencyConflict(channel);
      const result = { id: formatEventId(epoch, id) };
      return outcome === 'duplicate' ? { ...result, duplicate: true } : result;
    },

    subscribe(channel, listener) {
      return subscriptions.subscribe(channel, listener);
    },

    position(channel) {
      return run('position not read', async () => {
        const keys = channelKeys(resolved.keyPrefix, channel);
        const [epoch, id] = await scripts.position(keys, newEpoch(), keyTtlMs);
        return formatEventId(epoch, id);
      });
    },

    history(channel, query) {
      return run('history not read', () =>
        readHistory(scripts, channelKeys(resolved.keyPrefix, channel), channel, query, {
          historySize,
          historyMaxAgeMs,
        }),
      );
    },

    ready(timeoutMs = commandTimeoutMs) {
      return health.whenReady(timeoutMs);
    },

    onStatusChange: (listener) => health.onChange(listener),

    async close() {
      if (health.status === 'closed') return;
      subscriptions.close();
      presenceStore.close();
      clients.close();
    },
  };
}
