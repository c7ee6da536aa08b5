import type { PresenceChange, PresenceMember, PresenceMeta } from '@switchboard/protocol';

/**
 * The Broker moves channel events between processes and keeps their history. Which local sockets
 * receive an event is decided by the server's channel table (`channels.ts`), the same for every broker.
 *
 * Implementations: `createMemoryBroker` (one process, the default) and `createRedisBroker`
 * (`@switchboard/server/redis`, many processes). Both pass the shared suite in `broker/contract.ts`.
 */
export interface Broker {
  /**
   * Stores (unless ephemeral) and delivers an event to every subscriber of the channel on every instance.
   * Resolves with the assigned event id (absent for ephemeral events); rejects with a `SwitchboardError`
   * of code `BROKER_UNAVAILABLE` when the event could not be stored and published: never drops silently.
   */
  publish(channel: string, event: OutgoingEvent): Promise<{ id?: string; duplicate?: boolean }>;

  /**
   * Starts live delivery of a channel's events to `listener`; resolves once delivery is active, so a
   * caller that subscribes and then reads history cannot miss an event between the two.
   * Stored events reach the listener in id order, without gaps or duplicates, also across broker
   * reconnects (the broker repairs gaps from history). Reference counting of remote subscriptions is the
   * broker's business; the returned function removes this listener.
   */
  subscribe(channel: string, listener: BrokerListener): Promise<() => void>;

  /** Stored events after `query.after` (exclusive), or the last `query.last` events, oldest first. */
  history(channel: string, query: HistoryQuery): Promise<HistoryResult>;

  /**
   * Where a new subscriber stands: the id of the channel's newest stored event or, for a channel with none,
   * its stream's start (creating the stream's epoch if needed). `history({ after: position })` later returns
   * everything stored since, so a client that reconnects before receiving any event still resumes.
   */
  position(channel: string): Promise<string>;

  /** Orders two event ids of the same channel: negative when `a` is older than `b`, 0 when equal. */
  compareIds(a: string, b: string): number;

  readonly presence: PresenceStore;

  /** Broker health as the server reports it (`/readyz`, dashboard). */
  readonly status: BrokerStatus;

  /**
   * Why `status` is not `ready`, in one line for an operator (`/readyz`, logs), e.g.
   * `redis 127.0.0.1:6390: connect ECONNREFUSED`; undefined while ready.
   */
  readonly statusReason: string | undefined;

  /** Releases connections and timers. Idempotent. */
  close(): Promise<void>;
}

export type BrokerStatus = 'ready' | 'connecting' | 'unavailable' | 'closed';

/** What the server hands to `publish`: the envelope already serialised once, without its id. */
export interface OutgoingEvent {
  type: string;
  /** JSON of the envelope without `id`; the broker never parses it on the hot path. */
  json: string;
  /** Ephemeral events are delivered live only: no id, never in history. */
  ephemeral: boolean;
  /**
   * Deduplicates a retried publish (stored events only). `key` is already scoped to its author by the caller
   * (e.g. `<userId>:<client key>`); `fingerprint` identifies the request (channel, type, payload). Within the
   * broker's idempotency window, a second publish with the same key and fingerprint stores nothing and
   * resolves with the first one's id (`duplicate: true`); the same key with another fingerprint rejects
   * with a `SwitchboardError` of code `IDEMPOTENCY_CONFLICT`. Holds across instances sharing the broker.
   */
  idempotency?: { key: string; fingerprint: string };
}

/** An event as delivered to subscribers. */
export interface BrokerEvent {
  channel: string;
  /** Absent for ephemeral events. */
  id?: string;
  type: string;
  /** JSON of the envelope without `id`. */
  json: string;
}

export type BrokerListener = (event: BrokerEvent) => void;

export type HistoryQuery = { after: string } | { last: number };

export type HistoryResult =
  | { recovered: true; events: BrokerEvent[] }
  /**
   * The history no longer reaches back to `after` (evicted), the id belongs to another epoch of the
   * stream (recreated after a restart), or the id is not one this broker issued.
   */
  | { recovered: false; reason: 'evicted' | 'epoch-changed' | 'unknown-id' };

/** One connection's presence in one channel. */
export interface PresenceEntry {
  connectionId: string;
  userId: string;
  name: string;
  meta?: PresenceMeta;
}

/**
 * Presence is kept per connection and reported per user (a user with two tabs is one member with
 * `connections: 2`). Methods return the change other members must be told about, or null when the
 * change is invisible (a second tab joining). The caller publishes it as an ephemeral `$presence` event.
 */
export interface PresenceStore {
  join(channel: string, entry: PresenceEntry): Promise<PresenceChange | null>;
  leave(channel: string, connectionId: string): Promise<PresenceChange | null>;
  update(channel: string, connectionId: string, meta: PresenceMeta): Promise<PresenceChange | null>;
  list(channel: string): Promise<PresenceMember[]>;
  /**
   * Marks these connections alive (called from the heartbeat). Brokers that share presence across
   * instances expire entries whose instance stopped refreshing and report the resulting changes
   * through `onExpired`: a leave, or an update with the new count when the member is still connected
   * through another instance.
   */
  refresh(connectionIds: readonly string[]): Promise<void>;
  /** Registers the callback that publishes the changes (leave or update) expired entries make. */
  onExpired(listener: (channel: string, change: PresenceChange) => void): void;
}
