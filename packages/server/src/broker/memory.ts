import type { Broker, BrokerEvent, BrokerListener, HistoryResult, OutgoingEvent } from './broker.ts';
import { compareEventIds, formatEventId, newEpoch, parseEventId } from './eventId.ts';
import { createMemoryPresence } from './memoryPresence.ts';

export interface MemoryBrokerOptions {
  /** Stored events kept per channel (ring buffer); older ones are evicted. @default 1000 */
  historySize?: number;
}

const defaults = { historySize: 1000 } satisfies Required<MemoryBrokerOptions>;

/** Per-channel state: live listeners and a ring buffer of stored events. */
interface ChannelStream {
  listeners: Set<BrokerListener>;
  ring: (BrokerEvent | undefined)[];
  /** Number of stored events ever; the next id's position. */
  count: number;
}

/**
 * The embedded broker: one process, no dependencies. Ids are `<epoch>:<n>` with one epoch per broker
 * instance, so ids from before a restart are reported as `epoch-changed`, never replayed wrongly.
 */
export function createMemoryBroker(options: MemoryBrokerOptions = {}): Broker {
  const historySize = options.historySize ?? defaults.historySize;
  if (!Number.isInteger(historySize) || historySize < 0) {
    throw new TypeError(`historySize must be a non-negative integer, got ${historySize}`);
  }
  const epoch = newEpoch();
  const streams = new Map<string, ChannelStream>();
  let closed = false;

  function streamOf(channel: string): ChannelStream {
    let stream = streams.get(channel);
    if (!stream) {
      stream = { listeners: new Set(), ring: new Array(historySize), count: 0 };
      streams.set(channel, stream);
    }
    return stream;
  }

  /** Drops a channel's state once it has neither listeners nor history, so idle channels cost nothing. */
  function release(channel: string, stream: ChannelStream) {
    if (stream.listeners.size === 0 && stream.count === 0) streams.delete(channel);
  }

  function storedSince(stream: ChannelStream, fromCount: number): BrokerEvent[] {
    const events: BrokerEvent[] = [];
    for (let n = fromCount; n < stream.count; n++) events.push(stream.ring[n % historySize]!);
    return events;
  }

  return {
    get status() {
      return closed ? 'closed' : 'ready';
    },
    presence: createMemoryPresence(),
    compareIds: compareEventIds,

    async publish(channel, event: OutgoingEvent) {
      const stream = streamOf(channel);
      const delivered: BrokerEvent = { channel, type: event.type, json: event.json };
      if (!event.ephemeral && historySize > 0) {
        delivered.id = formatEventId(epoch, stream.count + 1);
        stream.ring[stream.count % historySize] = delivered;
        stream.count++;
      }
      for (const listener of stream.listeners) listener(delivered);
      release(channel, stream);
      return delivered.id === undefined ? {} : { id: delivered.id };
    },

    async subscribe(channel, listener) {
      const stream = streamOf(channel);
      stream.listeners.add(listener);
      return () => {
        stream.listeners.delete(listener);
        release(channel, stream);
      };
    },

    async position(channel) {
      return formatEventId(epoch, streams.get(channel)?.count ?? 0);
    },

    async history(channel, query): Promise<HistoryResult> {
      const stream = streams.get(channel);
      const count = stream?.count ?? 0;
      const oldest = Math.max(0, count - historySize);
      if ('last' in query) {
        return {
          recovered: true,
          events: stream ? storedSince(stream, Math.max(oldest, count - query.last)) : [],
        };
      }
      const parsed = parseEventId(query.after);
      if (!parsed || !/^\d+$/.test(parsed.position)) return { recovered: false, reason: 'unknown-id' };
      if (parsed.epoch !== epoch) return { recovered: false, reason: 'epoch-changed' };
      const after = parsed.major;
      if (after > count) return { recovered: false, reason: 'unknown-id' };
      if (after < oldest) return { recovered: false, reason: 'evicted' };
      return { recovered: true, events: stream ? storedSince(stream, after) : [] };
    },

    async close() {
      closed = true;
      streams.clear();
    },
  };
}
