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
  /** Whether the connection has a subscription to `channel` (live, or still reading history). */
  isSubscribedTo(channel: string): boolean;
  /** The channels it is subscribed to, with the number of its subscriptions to each (a new map). */
  subscribedChannels(): Map<string, number>;
  /**
   * Presence metadata per channel, kept so a `setPresence` that races the join is not lost; undefined until
   * the first `setPresence`.
   */
  readonly presenceMeta: ReadonlyMap<string, PresenceMeta> | undefined;
  /** Keeps `meta` for `channel` until the connection's last subscription to it stops. */
  setPresenceMeta(channel: string, meta: PresenceMeta): void;
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

/**
 * Connections of both transports (WebSockets in the registry, SSE streams), as `maxConnections` and
 * `maxConnectionsPerUser` count them and the `connections` gauge reports them.
 */
export interface ConnectionCounts {
  total(): number;
  ofUser(userId: string): number;
}

export function createRegistry(): Registry {
  const connections = new Map<string, Connection>();
  /**
   * A user's connection, or a set of them once there are two: most users have one, and an empty `Set`
   * costs 150 bytes per user.
   */
  const users = new Map<string, Connection | Set<Connection>>();

  function remove(connectionId: string) {
    const connection = connections.get(connectionId);
    if (!connection) return;
    connections.delete(connectionId);
    const { userId } = connection.user;
    const held = users.get(userId);
    if (held === connection) users.delete(userId);
    else if (held instanceof Set) {
      held.delete(connection);
      if (held.size === 1) users.set(userId, held.values().next().value!);
    }
  }

  return {
    add(connection) {
      connections.set(connection.id, connection);
      const { userId } = connection.user;
      const held = users.get(userId);
      if (held === undefined) users.set(userId, connection);
      else if (held instanceof Set) held.add(connection);
      else if (held !== connection) users.set(userId, new Set([held, connection]));
    },
    remove,
    get: (id) => connections.get(id),
    byUser(userId) {
      const held = users.get(userId);
      return held === undefined ? [] : held instanceof Set ? [...held] : [held];
    },
    countByUser(userId) {
      const held = users.get(userId);
      return held === undefined ? 0 : held instanceof Set ? held.size : 1;
    },
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
