import type { Broker, BrokerEvent, BrokerListener, HistoryResult, OutgoingEvent } from './broker.ts';
import { compareEventIds, formatEventId, newEpoch, parseEventId } from './eventId.ts';
import { type HistoryOptions, resolveHistoryOptions } from './historyOptions.ts';
import { idempotencyConflict } from './idempotencyConflict.ts';
import { createMemoryPresence } from './memoryPresence.ts';

/** Options of `createMemoryBroker`; the defaults are `historyDefaults` (`historyOptions.ts`). */
export interface MemoryBrokerOptions extends HistoryOptions {}

/** What a memory broker holds right now; for tests and monitoring. */
export interface MemoryBrokerStats {
  /** Channels with any state: listeners, stored events, or both. */
  channels: number;
  /** Stored events over all channels. */
  storedEvents: number;
  /** Idempotency keys remembered over all channels. */
  idempotencyKeys: number;
}

export interface MemoryBroker extends Broker {
  stats(): MemoryBrokerStats;
}

/** A point of the broker's id clock: ids are `<epoch>:<ms>-<seq>`, like Redis stream ids. */
interface Position {
  ms: number;
  seq: number;
}

/** A stored event and its position (`ms`, `seq` inline: one object less per event). */
interface StoredEvent extends Position {
  event: BrokerEvent & { id: string };
  idempotency?: { key: string; fingerprint: string };
}

/**
 * Per-channel state; it exists only while the channel has listeners or unexpired events. The set and the
 * map are created when first needed (an empty Set or Map costs about 150 bytes).
 */
interface ChannelState {
  listeners: Set<BrokerListener> | undefined;
  /** Oldest first; grows with what is stored, up to `historySize`. */
  events: StoredEvent[];
  /** Every event of this channel after this position is in `events`; anything at or before may be gone. */
  completeAfter: Position;
  /** Idempotency key → its event, for the events still in `events`. */
  keys: Map<string, StoredEvent> | undefined;
}

/** Upper bound of the expiry sweep's interval, in ms: a state outlives its history by at most this. */
const MAX_SWEEP_INTERVAL_MS = 60_000;
const ORIGIN: Position = { ms: 0, seq: 0 };

const before = (a: Position, b: Position) => a.ms < b.ms || (a.ms === b.ms && a.seq < b.seq);
const later = (a: Position, b: Position) => (before(a, b) ? b : a);

/**
 * The embedded broker: one process, no dependencies.
 *
 * Ids are `<epoch>:<ms>-<seq>` from one clock per broker that never goes back, with one epoch per broker
 * instance: ids from before a restart are reported as `epoch-changed`, and a channel whose state was
 * dropped and is used again continues with larger ids, so an old id never names a new event. A resume
 * from before a dropped state is `evicted` (the broker remembers the newest position it ever forgot),
 * never a silent partial replay.
 *
 * Memory follows what is stored: a channel costs nothing until it has a listener or an event, history
 * grows as events arrive, and an expiry sweep drops a channel once it has no listeners and its newest
 * event is older than `historyMaxAgeMs`.
 */
export function createMemoryBroker(options: MemoryBrokerOptions = {}): MemoryBroker {
  const { historySize, historyMaxAgeMs } = resolveHistoryOptions(options, 'createMemoryBroker');
  const epoch = newEpoch();
  const channels = new Map<string, ChannelState>();
  /** Channels with stored events, in the order of their newest event: the sweep reads from the front. */
  const expiring = new Map<string, ChannelState>();
  let clock: Position = ORIGIN;
  /** Newest position of any event dropped with its channel's state. */
  let forgottenThrough: Position = ORIGIN;
  let closed = false;

  const sweep = setInterval(
    sweepExpired,
    Math.max(10, Math.min(MAX_SWEEP_INTERVAL_MS, Math.ceil(historyMaxAgeMs / 4))),
  );
  sweep.unref();

  function tick(): Position {
    const now = Date.now();
    clock = now > clock.ms ? { ms: now, seq: 0 } : { ms: clock.ms, seq: clock.seq + 1 };
    return clock;
  }

  function stateOf(channel: string): ChannelState {
    let state = channels.get(channel);
    if (!state) {
      state = { listeners: undefined, events: [], completeAfter: forgottenThrough, keys: undefined };
      channels.set(channel, state);
    }
    return state;
  }

  function evictOldest(state: ChannelState) {
    const oldest = state.events.shift()!;
    state.completeAfter = { ms: oldest.ms, seq: oldest.seq };
    const key = oldest.idempotency?.key;
    if (key !== undefined && state.keys?.get(key) === oldest) state.keys.delete(key);
    if (state.keys?.size === 0) state.keys = undefined;
  }

  function expire(state: ChannelState, now = Date.now()) {
    const oldestKept = now - historyMaxAgeMs;
    while (state.events.length > 0 && state.events[0]!.ms <= oldestKept) evictOldest(state);
  }

  /** Forgets a channel that has neither listeners nor events; its ids stay judged by `forgottenThrough`. */
  function release(channel: string, state: ChannelState) {
    if (state.listeners || state.events.length > 0 || channels.get(channel) !== state) return;
    channels.delete(channel);
    expiring.delete(channel);
    forgottenThrough = later(forgottenThrough, state.completeAfter);
  }

  function sweepExpired() {
    const now = Date.now();
    for (const [channel, state] of expiring) {
      const newest = state.events.at(-1);
      // In order of the newest event: the first one still fresh ends the sweep.
      if (newest && newest.ms > now - historyMaxAgeMs) break;
      expiring.delete(channel);
      expire(state, now);
      release(channel, state);
    }
  }

  function store(channel: string, state: ChannelState, event: OutgoingEvent): StoredEvent {
    const { ms, seq } = tick();
    const stored: StoredEvent = {
      event: { channel, id: formatEventId(epoch, `${ms}-${seq}`), type: event.type, json: event.json },
      ms,
      seq,
    };
    // A first event gets an array of its own size (push onto an empty array reserves room for 17).
    if (state.events.length === 0) state.events = [stored];
    else state.events.push(stored);
    if (state.events.length > historySize) evictOldest(state);
    if (event.idempotency) {
      stored.idempotency = event.idempotency;
      state.keys ??= new Map();
      state.keys.set(event.idempotency.key, stored);
    }
    // Re-inserted at the end: `expiring` stays ordered by each channel's newest event.
    expiring.delete(channel);
    expiring.set(channel, state);
    return stored;
  }

  return {
    get status() {
      return closed ? 'closed' : 'ready';
    },
    get statusReason() {
      return closed ? 'broker closed' : undefined;
    },
    presence: createMemoryPresence(),
    compareIds: compareEventIds,

    async publish(channel, event: OutgoingEvent) {
      const state = stateOf(channel);
      if (event.ephemeral || historySize === 0) {
        // Delivered live only: no id, and an idempotency key has nothing to answer with.
        const live: BrokerEvent = { channel, type: event.type, json: event.json };
        if (state.listeners) for (const listener of state.listeners) listener(live);
        release(channel, state);
        return {};
      }
      expire(state);
      if (event.idempotency) {
        const earlier = state.keys?.get(event.idempotency.key);
        if (earlier) {
          if (earlier.idempotency!.fingerprint !== event.idempotency.fingerprint) {
            throw idempotencyConflict(channel);
          }
          return { id: earlier.event.id, duplicate: true };
        }
      }
      const { event: delivered } = store(channel, state, event);
      if (state.listeners) for (const listener of state.listeners) listener(delivered);
      return { id: delivered.id };
    },

    async subscribe(channel, listener) {
      const state = stateOf(channel);
      state.listeners ??= new Set();
      // Wrapped, so the same function subscribed twice counts twice and each unsubscribe removes one.
      const own: BrokerListener = (event) => listener(event);
      state.listeners.add(own);
      return () => {
        if (!state.listeners?.delete(own)) return;
        if (state.listeners.size === 0) state.listeners = undefined;
        release(channel, state);
      };
    },

    async position(channel) {
      const state = channels.get(channel);
      if (state) expire(state);
      // Without events, the clock: every event stored later in this channel has a larger id.
      const newest = state?.events.at(-1) ?? clock;
      return formatEventId(epoch, `${newest.ms}-${newest.seq}`);
    },

    async history(channel, query): Promise<HistoryResult> {
      const state = channels.get(channel);
      if (state) expire(state);
      const events = state?.events ?? [];
      if ('last' in query) {
        const count = Math.max(0, Math.min(events.length, Math.floor(query.last)));
        return { recovered: true, events: events.slice(events.length - count).map(({ event }) => event) };
      }
      const parsed = parseEventId(query.after);
      if (!parsed) return { recovered: false, reason: 'unknown-id' };
      // Any id of another epoch (also `<n>` ids of older memory brokers) comes from before a restart.
      if (parsed.epoch !== epoch) return { recovered: false, reason: 'epoch-changed' };
      if (!parsed.position.includes('-')) return { recovered: false, reason: 'unknown-id' };
      const after: Position = { ms: parsed.major, seq: parsed.minor };
      if (before(clock, after)) return { recovered: false, reason: 'unknown-id' };
      if (before(after, state?.completeAfter ?? forgottenThrough)) {
        return { recovered: false, reason: 'evicted' };
      }
      let first = events.length;
      while (first > 0 && before(after, events[first - 1]!)) first--;
      return { recovered: true, events: events.slice(first).map(({ event }) => event) };
    },

    stats() {
      let storedEvents = 0;
      let idempotencyKeys = 0;
      for (const state of channels.values()) {
        storedEvents += state.events.length;
        idempotencyKeys += state.keys?.size ?? 0;
      }
      return { channels: channels.size, storedEvents, idempotencyKeys };
    },

    async close() {
      closed = true;
      clearInterval(sweep);
      channels.clear();
      expiring.clear();
    },
  };
}
