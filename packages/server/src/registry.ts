import type { PresenceMeta } from '@switchboard/protocol';
import type { WebSocket } from 'ws';
import type { AuthUser } from './auth.ts';

/** A live connection as the registry and every module that needs "who is on this socket" see it. */
export interface Connection {
  readonly id: string;
  readonly socket: WebSocket;
  user: AuthUser;
  readonly connectedAt: number;
  /** Last frame or pong from the client, in ms since the epoch. */
  lastSeenAt: number;
  /** Channels this connection is subscribed to, with the number of its subscriptions to each. */
  readonly channels: Map<string, number>;
  /** Presence metadata per channel, kept so a `setPresence` that races the join is not lost. */
  readonly presenceMeta: Map<string, PresenceMeta>;
  /** Sends a ready-made frame; returns false (and closes with 1013) when the client is a slow consumer. */
  send(frame: string): boolean;
  /** Sends a complete WebSocket frame from `encodeTextFrame`, shared with other sockets (fan-out path). */
  sendFrame(frame: Buffer): boolean;
  /** Releases everything the connection holds (subscriptions, presence, registry entry). Idempotent. */
  dispose(): void;
}

/** Every live connection, by id and by user. */
export interface Registry {
  add(connection: Connection): void;
  /** Idempotent: called from every close path. */
  remove(connectionId: string): void;
  get(connectionId: string): Connection | undefined;
  byUser(userId: string): readonly Connection[];
  /** Open connections of one user, without copying them (checked on every upgrade). */
  countByUser(userId: string): number;
  all(): IterableIterator<Connection>;
  readonly size: number;
  /** Removes entries whose socket is already closed (a close event that never came); returns how many. */
  sweep(): Connection[];
}

export function createRegistry(): Registry {
  const connections = new Map<string, Connection>();
  const users = new Map<string, Set<Connection>>();

  function remove(connectionId: string) {
    const connection = connections.get(connectionId);
    if (!connection) return;
    connections.delete(connectionId);
    const set = users.get(connection.user.userId);
    set?.delete(connection);
    if (set?.size === 0) users.delete(connection.user.userId);
  }

  return {
    add(connection) {
      connections.set(connection.id, connection);
      let set = users.get(connection.user.userId);
      if (!set) users.set(connection.user.userId, (set = new Set()));
      set.add(connection);
    },
    remove,
    get: (id) => connections.get(id),
    byUser: (userId) => [...(users.get(userId) ?? [])],
    countByUser: (userId) => users.get(userId)?.size ?? 0,
    all: () => connections.values(),
    get size() {
      return connections.size;
    },
    sweep() {
      const stale = [...connections.values()].filter((c) => c.socket.readyState === c.socket.CLOSED);
      for (const connection of stale) remove(connection.id);
      return stale;
    },
  };
}
