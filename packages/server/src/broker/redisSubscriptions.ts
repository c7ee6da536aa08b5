import { ErrorCode, SwitchboardError } from '@switchboard/protocol';
import type { Logger } from 'pino';
import type { BrokerEvent, BrokerListener } from './broker.ts';
import { formatEventId } from './eventId.ts';
import type { RedisClients } from './redisClients.ts';
import { compareStreamIds, parseStreamEntry, toBrokerEvent } from './redisHistory.ts';
import { type ChannelKeys, channelKeys, channelKeyTtlMs } from './redisKeys.ts';
import type { ResolvedRedisBrokerOptions } from './redisOptions.ts';
import type { BrokerScripts } from './redisScripts.ts';

/**
 * Live delivery for the Redis broker: one pub/sub subscription per channel for however many local
 * listeners it has, and the listener contract on top of at-most-once pub/sub: stored events reach
 * listeners in stream order, without gaps or duplicates.
 *
 * Each channel remembers the last stream id it delivered. Every stored event names its predecessor, so a
 * message that does not follow the last delivered id reveals a gap at once; the missing range is read
 * from the stream (XRANGE, exclusive start) and delivered before anything newer. Two cases have no later
 * message to reveal them: a reconnection of the subscriber (all messages meanwhile are lost), handled by
 * repairing every channel after resubscribing, and a lost last message, handled by positioning: a
 * periodic comparison of the last delivered id with the stream head (Centrifugo's idea).
 */
export interface Subscriptions {
  subscribe(channel: string, listener: BrokerListener): Promise<() => void>;
  /** Channels with at least one local listener. */
  channels(): IterableIterator<string>;
  close(): void;
}

interface Position {
  /** null while the channel has no stream yet. */
  epoch: string | null;
  /** Last delivered stream id; `0-0` before the first. */
  streamId: string;
}

/** A pub/sub message. Ephemeral events have an empty epoch. */
interface LiveMessage {
  epoch: string;
  streamId: string;
  prev: string;
  event: BrokerEvent;
}

interface ChannelState {
  readonly channel: string;
  readonly keys: ChannelKeys;
  readonly listeners: Set<BrokerListener>;
  /** Resolves once the pub/sub subscription is active and the position is known. */
  ready: Promise<void>;
  /** null until the stream head was read after subscribing. */
  position: Position | null;
  /** Messages that arrived while the position was unknown or a repair was running. */
  buffer: LiveMessage[];
  repairing: boolean;
  released: boolean;
}

/** Entries read per XRANGE while repairing. */
const REPAIR_BATCH = 500;
/** Bounds one repair: batches read, and read-then-drain rounds. Positioning resumes what is left. */
const REPAIR_MAX_BATCHES = 200;
const REPAIR_MAX_ROUNDS = 20;
/** Live messages kept while a repair runs; older ones are dropped, since the stream has them anyway. */
const MAX_BUFFERED = 10_000;
/** Immediate retries of restoring subscriptions after a reconnection, and the pause between them. */
const RESTORE_ATTEMPTS = 10;
const RESTORE_RETRY_MS = 200;

export function createSubscriptions(
  clients: RedisClients,
  scripts: BrokerScripts,
  options: ResolvedRedisBrokerOptions,
  logger: Logger,
): Subscriptions {
  const byPubsub = new Map<string, ChannelState>();
  const keyTtlMs = channelKeyTtlMs(options.historyMaxAgeMs);
  let closed = false;
  /** Incremented on every subscriber (re)connection, to spot one that happened during an activation. */
  let subscriberGeneration = 0;
  let positioningRunning = false;
  /** The subscriber connection whose subscriptions were last restored (generation), and retry state. */
  let restoredGeneration = 0;
  let restoring = false;
  let restoreAttempts = 0;

  function emit(state: ChannelState, event: BrokerEvent) {
    for (const listener of state.listeners) {
      try {
        listener(event);
      } catch (error) {
        logger.error({ err: error, channel: state.channel }, 'broker listener threw');
      }
    }
  }

  function decode(state: ChannelState, raw: string): LiveMessage | null {
    const a = raw.indexOf('\n');
    const b = raw.indexOf('\n', a + 1);
    const c = raw.indexOf('\n', b + 1);
    const d = raw.indexOf('\n', c + 1);
    if (a < 0 || b < 0 || c < 0 || d < 0) return null;
    const epoch = raw.slice(0, a);
    const streamId = raw.slice(a + 1, b);
    const event: BrokerEvent = { channel: state.channel, type: raw.slice(c + 1, d), json: raw.slice(d + 1) };
    if (epoch !== '') event.id = formatEventId(epoch, streamId);
    return { epoch, streamId, prev: raw.slice(b + 1, c), event };
  }

  /**
   * Delivers `message` if it is ephemeral or the next stored event; says whether it was delivered, was
   * old, or shows a gap.
   */
  function accept(state: ChannelState, message: LiveMessage): 'delivered' | 'duplicate' | 'gap' {
    const position = state.position!;
    if (message.epoch === '') {
      emit(state, message.event);
      return 'delivered';
    }
    // The channel had no stream when subscribed, and this message starts one.
    if (position.epoch === null && message.prev === '0-0') {
      position.epoch = message.epoch;
      position.streamId = '0-0';
    }
    if (message.epoch === position.epoch) {
      if (compareStreamIds(message.streamId, position.streamId) <= 0) return 'duplicate';
      if (message.prev === position.streamId) {
        position.streamId = message.streamId;
        emit(state, message.event);
        return 'delivered';
      }
    }
    return 'gap';
  }

  function buffer(state: ChannelState, message: LiveMessage) {
    state.buffer.push(message);
    if (state.buffer.length > MAX_BUFFERED) state.buffer.splice(0, state.buffer.length - MAX_BUFFERED);
  }

  /** Delivers buffered messages in order; returns true when one of them shows a gap (kept buffered). */
  function drain(state: ChannelState): boolean {
    const pending = state.buffer;
    state.buffer = [];
    for (let i = 0; i < pending.length; i++) {
      if (accept(state, pending[i]!) === 'gap') {
        state.buffer = pending.slice(i).concat(state.buffer);
        return true;
      }
    }
    return false;
  }

  function subscriberOnMessage(pubsub: string, raw: string) {
    const state = byPubsub.get(pubsub);
    if (!state) return;
    const message = decode(state, raw);
    if (!message) return;
    if (options.dropIncomingMessage?.(state.channel, message.event.id)) return;
    // Ephemeral events wait too while stored ones do, so one publisher's events keep their order.
    if (state.position === null || state.repairing) {
      buffer(state, message);
      return;
    }
    if (accept(state, message) === 'gap') {
      buffer(state, message);
      void repair(state);
    }
  }

  /** Reads what the stream holds after the position and delivers it. */
  async function readMissing(state: ChannelState) {
    for (let batch = 0; batch < REPAIR_MAX_BATCHES; batch++) {
      const position = state.position!;
      const reply = await scripts.range(state.keys, position.streamId, REPAIR_BATCH);
      clients.health.commandSucceeded();
      if (state.released || reply.length === 0) return;
      const [epoch, raw] = reply;
      if (epoch !== position.epoch) {
        if (position.epoch !== null) {
          logger.warn(
            { channel: state.channel },
            'channel stream was recreated (Redis lost it); continuing with the new one',
          );
        }
        // Messages of the old stream that were received but not yet delivered go first (they follow the
        // position or can never be repaired); the new stream is then read from its start.
        drain(state);
        state.buffer = state.buffer.filter((message) => message.epoch === epoch || message.epoch === '');
        state.position = { epoch, streamId: '0-0' };
        continue;
      }
      for (const rawEntry of raw) {
        const entry = parseStreamEntry(rawEntry);
        if (entry.prev !== position.streamId && position.streamId !== '0-0') {
          logger.warn(
            { channel: state.channel, after: position.streamId, next: entry.id },
            'events were trimmed before this instance delivered them',
          );
        }
        position.streamId = entry.id;
        emit(state, toBrokerEvent(state.channel, epoch, entry));
      }
      if (raw.length < REPAIR_BATCH) return;
    }
  }

  /** Fills the gap between the position and the stream head, then delivers what was buffered meanwhile. */
  async function repair(state: ChannelState) {
    if (state.repairing || state.position === null || state.released) return;
    state.repairing = true;
    try {
      for (let round = 0; round < REPAIR_MAX_ROUNDS && !state.released; round++) {
        await readMissing(state);
        if (!drain(state)) return;
      }
    } catch (error) {
      // Redis is unreachable: the buffer waits for the next reconnection or positioning round.
      clients.health.commandFailed(error);
    } finally {
      state.repairing = false;
    }
  }

  async function activate(state: ChannelState) {
    if (clients.health.status !== 'ready') await clients.health.whenReady(options.commandTimeoutMs);
    const generation = subscriberGeneration;
    await clients.subscribe([state.keys.pubsub]);
    // Subscribed before reading the head: anything stored after the head arrives as a message.
    const [epoch, lastId] = await scripts.head(state.keys, keyTtlMs);
    clients.health.commandSucceeded();
    state.position = { epoch: epoch === '' ? null : epoch, streamId: lastId === '' ? '0-0' : lastId };
    // Buffered messages up to the head were published before subscribe() resolved; the caller's history
    // read covers them.
    if (drain(state) || generation !== subscriberGeneration) void repair(state);
  }

  function release(state: ChannelState) {
    if (state.released) return;
    state.released = true;
    if (byPubsub.get(state.keys.pubsub) === state) byPubsub.delete(state.keys.pubsub);
    // Only if no new state took the channel over meanwhile: its SUBSCRIBE must stay in force.
    if (!closed && !byPubsub.has(state.keys.pubsub)) {
      clients.unsubscribe([state.keys.pubsub]).catch(() => {});
    }
  }

  function subscriberOnReady() {
    subscriberGeneration++;
    restoreAttempts = 0;
    void restore();
  }

  /**
   * Subscribes every channel again after the subscriber reconnected, then repairs what was missed
   * meanwhile. A failure is retried a few times at once, then on every positioning round.
   */
  async function restore() {
    if (restoredGeneration === subscriberGeneration || restoring || closed) return;
    restoring = true;
    const generation = subscriberGeneration;
    try {
      const states = [...byPubsub.values()];
      await clients.resubscribe(states.map((state) => state.keys.pubsub));
      restoredGeneration = generation;
      for (const state of states) void repair(state);
    } catch (error) {
      clients.health.commandFailed(error);
      if (++restoreAttempts < RESTORE_ATTEMPTS) setTimeout(() => void restore(), RESTORE_RETRY_MS).unref();
    } finally {
      restoring = false;
    }
    // Reconnected again while this ran: that connection needs its own subscriptions.
    if (generation !== subscriberGeneration) void restore();
  }

  /** Positioning: compares each channel's position with its stream head and repairs differences. */
  async function position() {
    if (positioningRunning || closed) return;
    positioningRunning = true;
    void restore();
    try {
      const states = [...byPubsub.values()].filter((state) => state.position !== null && !state.repairing);
      await Promise.all(
        states.map(async (state) => {
          const [epoch, lastId] = await scripts.head(state.keys, keyTtlMs);
          clients.health.commandSucceeded();
          const at = state.position;
          if (!at || epoch === '' || lastId === '') return;
          if (epoch !== at.epoch || compareStreamIds(lastId, at.streamId) > 0 || state.buffer.length > 0) {
            await repair(state);
          }
        }),
      );
    } catch (error) {
      clients.health.commandFailed(error);
    } finally {
      positioningRunning = false;
    }
  }

  clients.onMessage(subscriberOnMessage);
  clients.onSubscriberReady(subscriberOnReady);
  const positioningTimer = setInterval(() => void position(), options.positioningIntervalMs);
  positioningTimer.unref();

  return {
    async subscribe(channel, listener) {
      if (closed) throw new SwitchboardError(ErrorCode.BROKER_UNAVAILABLE, 'broker closed');
      const keys = channelKeys(options.keyPrefix, channel);
      let state = byPubsub.get(keys.pubsub);
      if (!state) {
        const created: ChannelState = {
          channel,
          keys,
          listeners: new Set(),
          ready: Promise.resolve(),
          position: null,
          buffer: [],
          repairing: false,
          released: false,
        };
        created.ready = activate(created);
        created.ready.catch(() => release(created));
        byPubsub.set(keys.pubsub, created);
        state = created;
      }
      const subscribed = state;
      // A listener may be added more than once; each subscription gets its own wrapper.
      const own: BrokerListener = (event) => listener(event);
      subscribed.listeners.add(own);
      try {
        await subscribed.ready;
      } catch (cause) {
        subscribed.listeners.delete(own);
        throw new SwitchboardError(
          ErrorCode.BROKER_UNAVAILABLE,
          `cannot subscribe to ${channel}: Redis unavailable`,
          {
            cause,
          },
        );
      }
      return () => {
        if (!subscribed.listeners.delete(own)) return;
        if (subscribed.listeners.size === 0) release(subscribed);
      };
    },
    channels() {
      return [...byPubsub.values()].map((state) => state.channel).values();
    },
    close() {
      closed = true;
      clearInterval(positioningTimer);
      for (const state of byPubsub.values()) {
        state.released = true;
        state.listeners.clear();
      }
      byPubsub.clear();
    },
  };
}
