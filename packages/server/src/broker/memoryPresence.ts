import type { PresenceChange, PresenceMember, PresenceMeta } from '@switchboard/protocol';
import type { PresenceEntry, PresenceStore } from './broker.ts';

/**
 * Presence for one process. Entries are removed by the server when a connection leaves or dies
 * (heartbeat), so nothing here expires by time. A member (one user) shows the name and meta of its
 * connection that joined or changed last: the map's insertion order, kept by re-inserting on update.
 */
export function createMemoryPresence(): PresenceStore {
  /** channel → connectionId → entry */
  const channels = new Map<string, Map<string, PresenceEntry>>();

  function memberOf(entries: Map<string, PresenceEntry>, userId: string, fallback: PresenceEntry) {
    let connections = 0;
    let latest: PresenceEntry = fallback;
    for (const entry of entries.values()) {
      if (entry.userId !== userId) continue;
      connections++;
      latest = entry;
    }
    const member: PresenceMember = { userId, name: latest.name, connections };
    if (latest.meta) member.meta = latest.meta;
    return member;
  }

  return {
    async join(channel, entry) {
      let entries = channels.get(channel);
      if (!entries) channels.set(channel, (entries = new Map()));
      entries.set(entry.connectionId, entry);
      const member = memberOf(entries, entry.userId, entry);
      // Another connection of a member already present changes its count: an update, not a join.
      return { action: member.connections === 1 ? 'join' : 'update', member };
    },
    async leave(channel, connectionId) {
      const entries = channels.get(channel);
      const entry = entries?.get(connectionId);
      if (!entries || !entry) return null;
      entries.delete(connectionId);
      if (entries.size === 0) channels.delete(channel);
      const member = memberOf(entries, entry.userId, entry);
      return { action: member.connections === 0 ? 'leave' : 'update', member };
    },
    async update(channel, connectionId, meta: PresenceMeta) {
      const entries = channels.get(channel);
      const entry = entries?.get(connectionId);
      if (!entries || !entry) return null;
      entry.meta = meta;
      // Re-inserted so it is the user's latest entry: a member shows the connection changed last.
      entries.delete(connectionId);
      entries.set(connectionId, entry);
      const change: PresenceChange = { action: 'update', member: memberOf(entries, entry.userId, entry) };
      return change;
    },
    async list(channel) {
      const entries = channels.get(channel);
      if (!entries) return [];
      const members = new Map<string, PresenceMember>();
      for (const entry of entries.values()) {
        if (!members.has(entry.userId)) members.set(entry.userId, memberOf(entries, entry.userId, entry));
      }
      return [...members.values()];
    },
    async refresh() {},
    onExpired() {},
  };
}
