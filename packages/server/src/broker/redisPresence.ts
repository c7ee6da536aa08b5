import type { PresenceChange, PresenceMember, PresenceMeta } from '@switchboard/protocol';
import type { Logger } from 'pino';
import type { PresenceStore } from './broker.ts';
import type { RedisClients } from './redisClients.ts';
import { channelKeys } from './redisKeys.ts';
import type { ResolvedRedisBrokerOptions } from './redisOptions.ts';
import type { BrokerScripts } from './redisScripts.ts';

/**
 * Presence shared by every instance: per channel a hash `connectionId → entry JSON` with an expiry in
 * Redis time. Each instance rewrites its own entries every `presenceTtlMs / 3` (and when the heartbeat
 * calls `refresh`), so an instance that dies without cleaning up has its entries expire; a periodic sweep
 * on every instance removes expired entries atomically, so each change is reported exactly once: a leave,
 * or an update with the new count for a member still connected through another instance.
 *
 * The instance keeps its own entries locally as well: they are what it rewrites, so presence heals by
 * itself after Redis lost its data. Changes are computed in Lua (one user's connections across all
 * instances), so two instances joining the same user at once announce it once.
 */
export interface RedisPresence extends PresenceStore {
  close(): void;
}

/*
 * The store's methods throw Redis's own errors; the broker turns them into BROKER_UNAVAILABLE and feeds
 * its status with them, as for every call a caller makes.
 */

/** What is stored per connection. `updatedAt` picks the connection whose name and meta a member shows. */
interface StoredEntry {
  userId: string;
  name: string;
  meta?: PresenceMeta;
  updatedAt: number;
  instanceId: string;
  expiresAt: number;
}

type LocalEntry = Omit<StoredEntry, 'instanceId' | 'expiresAt'>;

export function createRedisPresence(
  clients: RedisClients,
  scripts: BrokerScripts,
  options: ResolvedRedisBrokerOptions,
  /** Channels this instance has listeners on: their expired members matter to someone here. */
  subscribedChannels: () => Iterable<string>,
  logger: Logger,
): RedisPresence {
  const { presenceTtlMs, instanceId, keyPrefix } = options;
  /** channel → connectionId → entry, for this instance's connections. */
  const local = new Map<string, Map<string, LocalEntry>>();
  const channelsOf = new Map<string, Set<string>>();
  const expiredListeners: ((channel: string, change: PresenceChange) => void)[] = [];
  let lastUpdatedAt = 0;
  let closed = false;

  const keysOf = (channel: string) => channelKeys(keyPrefix, channel);

  function stored(entry: LocalEntry): string {
    const value: StoredEntry = {
      ...entry,
      instanceId,
      expiresAt: Math.ceil(clients.redisNow()) + presenceTtlMs,
    };
    return JSON.stringify(value);
  }

  /** Monotonic per instance, so the latest of two quick changes wins. */
  function nextUpdatedAt(): number {
    lastUpdatedAt = Math.max(Math.floor(clients.redisNow()), lastUpdatedAt + 1);
    return lastUpdatedAt;
  }

  function toMember(json: string, connections: number): PresenceMember {
    const entry = JSON.parse(json) as StoredEntry;
    const member: PresenceMember = { userId: entry.userId, name: entry.name, connections };
    if (entry.meta) member.meta = entry.meta;
    return member;
  }

  function remember(channel: string, connectionId: string, entry: LocalEntry) {
    let entries = local.get(channel);
    if (!entries) local.set(channel, (entries = new Map()));
    entries.set(connectionId, entry);
    let channels = channelsOf.get(connectionId);
    if (!channels) channelsOf.set(connectionId, (channels = new Set()));
    channels.add(channel);
  }

  function forget(channel: string, connectionId: string) {
    const entries = local.get(channel);
    entries?.delete(connectionId);
    if (entries?.size === 0) local.delete(channel);
    const channels = channelsOf.get(connectionId);
    channels?.delete(channel);
    if (channels?.size === 0) channelsOf.delete(connectionId);
  }

  async function upsert(channel: string, connectionId: string, entry: LocalEntry) {
    const [connections, latest] = await scripts.presenceUpsert(
      keysOf(channel),
      connectionId,
      stored(entry),
      entry.userId,
      presenceTtlMs * 2,
    );
    return { connections, latest };
  }

  /** Rewrites entries with a new expiry: one HSET per channel. */
  async function rewrite(byChannel: Map<string, string[]>) {
    await Promise.all(
      [...byChannel].map(async ([channel, connectionIds]) => {
        const entries = local.get(channel);
        if (!entries) return;
        const fields: string[] = [];
        for (const connectionId of connectionIds) {
          const entry = entries.get(connectionId);
          if (entry) fields.push(connectionId, stored(entry));
        }
        if (fields.length === 0) return;
        const { presence } = keysOf(channel);
        await clients.command.hset(presence, ...fields);
        await clients.command.pexpire(presence, presenceTtlMs * 2);
      }),
    );
  }

  function rewriteAll() {
    if (local.size === 0) return;
    const byChannel = new Map<string, string[]>();
    for (const [channel, entries] of local) byChannel.set(channel, [...entries.keys()]);
    rewrite(byChannel).then(
      () => clients.health.commandSucceeded(),
      (error) => clients.health.commandFailed(error),
    );
  }

  async function sweep() {
    const channels = new Set<string>(local.keys());
    for (const channel of subscribedChannels()) channels.add(channel);
    await Promise.all(
      [...channels].map(async (channel) => {
        const changes = await scripts.presenceSweep(keysOf(channel), instanceId);
        for (const [json, connections] of changes) {
          // A member with tabs on other instances stays, with its new count (as `leave` reports it).
          const change: PresenceChange = {
            action: connections === 0 ? 'leave' : 'update',
            member: toMember(json, connections),
          };
          for (const listener of expiredListeners) {
            try {
              listener(channel, change);
            } catch (error) {
              logger.error({ err: error, channel }, 'presence expiry listener threw');
            }
          }
        }
      }),
    );
  }

  const refreshTimer = setInterval(rewriteAll, Math.max(1, Math.floor(presenceTtlMs / 3)));
  const sweepTimer = setInterval(() => {
    if (clients.health.status !== 'ready') return;
    sweep().catch((error) => {
      clients.health.commandFailed(error);
      logger.debug({ err: error }, 'presence sweep failed');
    });
  }, options.presenceSweepIntervalMs);
  refreshTimer.unref();
  sweepTimer.unref();

  return {
    async join(channel, { connectionId, userId, name, meta }) {
      const entry: LocalEntry = { userId, name, updatedAt: nextUpdatedAt() };
      if (meta) entry.meta = meta;
      // Remembered before Redis answers: if it does not, the next rewrite adds the entry once it is back.
      remember(channel, connectionId, entry);
      const { connections, latest } = await upsert(channel, connectionId, entry);
      // Another connection of a member already present changes its count: an update, not a join.
      return {
        action: connections === 1 ? 'join' : 'update',
        member: toMember(latest ?? stored(entry), connections),
      };
    },

    async leave(channel, connectionId) {
      forget(channel, connectionId);
      const removed = await scripts.presenceLeave(keysOf(channel), connectionId);
      if (!removed) return null;
      if (removed[1] === 0) return { action: 'leave', member: toMember(removed[0], 0) };
      // The member stays with fewer connections: its count (and its latest connection's meta) from the list.
      const { userId } = JSON.parse(removed[0]) as StoredEntry;
      const member = (await this.list(channel)).find((candidate) => candidate.userId === userId);
      return member ? { action: 'update', member } : null;
    },

    async update(channel, connectionId, meta) {
      const entry = local.get(channel)?.get(connectionId);
      if (!entry) return null;
      entry.meta = meta;
      entry.updatedAt = nextUpdatedAt();
      const { connections, latest } = await upsert(channel, connectionId, entry);
      return { action: 'update', member: toMember(latest ?? stored(entry), connections) };
    },

    async list(channel) {
      const values = await clients.command.hvals(keysOf(channel).presence);
      const now = clients.redisNow();
      const members = new Map<string, { member: PresenceMember; updatedAt: number }>();
      for (const value of values) {
        let entry: StoredEntry;
        try {
          entry = JSON.parse(value) as StoredEntry;
        } catch {
          continue;
        }
        if (!(entry.expiresAt > now)) continue;
        const seen = members.get(entry.userId);
        if (seen) seen.member.connections++;
        if (!seen || entry.updatedAt > seen.updatedAt) {
          const member: PresenceMember = {
            userId: entry.userId,
            name: entry.name,
            connections: seen?.member.connections ?? 1,
          };
          if (entry.meta) member.meta = entry.meta;
          members.set(entry.userId, { member, updatedAt: entry.updatedAt });
        }
      }
      return [...members.values()].map(({ member }) => member);
    },

    async refresh(connectionIds) {
      if (closed) return;
      const byChannel = new Map<string, string[]>();
      for (const connectionId of connectionIds) {
        for (const channel of channelsOf.get(connectionId) ?? []) {
          let ids = byChannel.get(channel);
          if (!ids) byChannel.set(channel, (ids = []));
          ids.push(connectionId);
        }
      }
      await rewrite(byChannel);
    },

    onExpired(listener) {
      expiredListeners.push(listener);
    },

    close() {
      // Entries stay in Redis and expire: a restarting instance's members do not flood leave/join
      // (Phoenix does the same on graceful shutdown); the server removes them when clients disconnect.
      closed = true;
      clearInterval(refreshTimer);
      clearInterval(sweepTimer);
    },
  };
}
