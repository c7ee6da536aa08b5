import {
  type Envelope,
  ErrorCode,
  type Gap,
  ProtocolLimits,
  SwitchboardError,
  SystemEventType,
} from '@switchboard/protocol';
import type { TrackedEnvelope } from '@trpc/server';
import type { Broker, BrokerEvent } from './broker/broker.ts';
import { eventFrameTail, subscriptionFramePrefix } from './frames.ts';
import { encodeTextFrame } from './frameWriter.ts';
import type { ServerStats } from './metrics.ts';
import type { Connection } from './registry.ts';
import { sseEventChunk } from './sseFrames.ts';

/**
 * What `channel.subscribe` returns: a description of the stream, not a generator. The WebSocket
 * handler recognises it and attaches the subscription to the channel table, so an event costs one
 * serialisation per instance instead of one generator step and one `JSON.stringify` per subscriber.
 * It is typed as an async iterable so the router's output type (what `@trpc/client` infers) is exact.
 */
export class ChannelStream implements AsyncIterable<TrackedEnvelope<Envelope>> {
  constructor(
    readonly channel: string,
    readonly connectionId: string,
    /** Resume after this event id. */
    readonly lastEventId: string | undefined,
    /** On a fresh subscribe, replay this many stored events first. */
    readonly replay: number,
    /** Whether the channel's family tracks presence (joins and leaves are announced). */
    readonly presence: boolean,
  ) {}

  [Symbol.asyncIterator](): AsyncIterator<TrackedEnvelope<Envelope>> {
    throw new TypeError('channel.subscribe is served by the Switchboard WebSocket handler only');
  }
}

export function isChannelStream(value: unknown): value is ChannelStream {
  return value instanceof ChannelStream;
}

/**
 * Where a subscriber's encoded events go: a WebSocket connection (complete frames) or an SSE stream (chunks).
 * Returns false when the bytes were not sent (closed, or closed now as a slow consumer).
 */
export type FrameSink = Pick<Connection, 'sendFrame'>;

/** A subscription attached to the channel table; `Fanout.detach` releases it. */
export interface FanoutSubscription {
  readonly channel: string;
}

/**
 * One subscription of one connection (or one SSE stream) to one channel. It is also the handle its owner
 * detaches with (no closure per subscription: 10,000 idle subscriptions would keep 10,000 of them).
 */
interface Subscriber extends FanoutSubscription {
  readonly entry: ChannelEntry;
  readonly connection: FrameSink;
  /** The WebSocket subscription's frame prefix; null for an SSE stream, whose chunks have no per-subscription part. */
  readonly prefix: Buffer | null;
  /** Events that arrived live while history was being sent; null once live. */
  buffer: BrokerEvent[] | null;
  /** Id of the last stored event sent (see `eventFrameTail`). */
  position: string | undefined;
  /**
   * Set when live delivery starts: history may have been read further than live delivery had come (a Redis
   * pub/sub message can still be in flight when the stream already has it), so live events up to here were
   * already sent and are dropped, until the first newer one clears this.
   */
  coveredThrough: string | undefined;
  detached: boolean;
}

interface ChannelEntry {
  readonly subscribers: Set<Subscriber>;
  /** Resolves to the broker unsubscribe function once live delivery is active. */
  readonly ready: Promise<() => void>;
}

export interface Fanout {
  /**
   * Attaches a subscription and sends history per the resume rules; resolves once the subscription is live,
   * with the handle `detach` takes. Rejects with BROKER_UNAVAILABLE when the broker cannot subscribe or read.
   */
  attach(
    stream: ChannelStream,
    connection: FrameSink,
    subscriptionId: string | number,
  ): Promise<FanoutSubscription>;
  /** Stops a subscription's delivery; the broker is unsubscribed with the channel's last one. Idempotent. */
  detach(subscription: FanoutSubscription): void;
  /** The same for a Server-Sent Events stream: one subscription per stream, sent SSE chunks instead of frames. */
  attachSse(stream: ChannelStream, sink: FrameSink): Promise<() => void>;
}

/**
 * The local channel table: which sockets on this process receive a channel's events. Identical for
 * every broker; the broker is subscribed once per channel (first local subscriber) and unsubscribed
 * with the last.
 */
export function createFanout(broker: Broker, stats: ServerStats): Fanout {
  const entries = new Map<string, ChannelEntry>();

  function deliver(entry: ChannelEntry, event: BrokerEvent) {
    // A stored event from another epoch means the stream was recreated (e.g. Redis restarted without
    // persistence): whatever a subscriber was positioned on is gone, so it is told before going on.
    const epochPrefix = event.id === undefined ? undefined : event.id.slice(0, event.id.indexOf(':') + 1);
    // Live subscribers of a channel almost always share one position, and most share a subscription id
    // (`@trpc/client` numbers per connection), so a handful of encoded frames serve them all.
    let tail: Buffer | undefined;
    let tailPosition: string | undefined;
    const frames = new Map<Buffer, Buffer>();
    // The SSE chunk at `tailPosition`, shared by every SSE subscriber there, like `frames` for WebSockets.
    let sseChunk: Buffer | undefined;
    let checkedPosition: string | undefined | null = null;
    let epochChanged = false;
    for (const subscriber of entry.subscribers) {
      if (subscriber.buffer) {
        subscriber.buffer.push(event);
        continue;
      }
      if (subscriber.coveredThrough !== undefined && event.id !== undefined) {
        if (broker.compareIds(event.id, subscriber.coveredThrough) <= 0) continue;
        subscriber.coveredThrough = undefined;
      }
      // Checked once per distinct position (live subscribers share one), not once per subscriber.
      if (epochPrefix !== undefined && subscriber.position !== checkedPosition) {
        checkedPosition = subscriber.position;
        epochChanged = checkedPosition !== undefined && !checkedPosition.startsWith(epochPrefix);
      }
      if (epochPrefix !== undefined && epochChanged) {
        const gap = gapEvent(event.channel, 'epoch-changed', subscriber.position);
        subscriber.connection.sendFrame(encodeFor(subscriber, gap, undefined));
      }
      if (event.id !== undefined) subscriber.position = event.id;
      if (tail === undefined || tailPosition !== subscriber.position) {
        tailPosition = subscriber.position;
        tail = eventFrameTail(event, tailPosition);
        frames.clear();
        sseChunk = undefined;
      }
      if (subscriber.prefix === null) {
        sseChunk ??= sseEventChunk(event, tailPosition);
        subscriber.connection.sendFrame(sseChunk);
        continue;
      }
      let frame = frames.get(subscriber.prefix);
      if (!frame) {
        frame = encodeTextFrame(subscriber.prefix, tail);
        frames.set(subscriber.prefix, frame);
      }
      subscriber.connection.sendFrame(frame);
    }
  }

  function entryFor(channel: string): ChannelEntry {
    let entry = entries.get(channel);
    if (entry) return entry;
    const subscribers = new Set<Subscriber>();
    const created: ChannelEntry = {
      subscribers,
      ready: broker.subscribe(channel, (event) => deliver(created, event)),
    };
    // A failed broker subscription must not stay cached, or the channel would stay broken.
    created.ready.catch(() => {
      if (entries.get(channel) === created) entries.delete(channel);
    });
    entries.set(channel, created);
    stats.channels = entries.size;
    entry = created;
    return entry;
  }

  function detach(subscriber: Subscriber) {
    if (subscriber.detached) return;
    const { channel, entry } = subscriber;
    subscriber.detached = true;
    entry.subscribers.delete(subscriber);
    stats.subscriptions--;
    if (entry.subscribers.size === 0 && entries.get(channel) === entry) {
      entries.delete(channel);
      stats.channels = entries.size;
      entry.ready.then(
        (unsubscribe) => unsubscribe(),
        () => {},
      );
    }
  }

  async function attachSubscriber(
    stream: ChannelStream,
    connection: FrameSink,
    prefix: Buffer | null,
  ): Promise<Subscriber> {
    const { channel } = stream;
    const entry = entryFor(channel);
    const subscriber: Subscriber = {
      channel,
      entry,
      connection,
      prefix,
      buffer: [],
      position: stream.lastEventId,
      coveredThrough: undefined,
      detached: false,
    };
    // Subscribe to live events before reading history, so nothing falls between them.
    entry.subscribers.add(subscriber);
    stats.subscriptions++;
    const send = (event: BrokerEvent) => {
      if (event.id !== undefined) subscriber.position = event.id;
      if (!subscriber.detached) connection.sendFrame(encodeFor(subscriber, event, subscriber.position));
    };
    try {
      await entry.ready;
      await sendHistory(broker, stream, subscriber, send);
      // Flush what arrived during the history read, dropping what history already covered.
      const buffered = subscriber.buffer ?? [];
      subscriber.buffer = null;
      for (const event of buffered) {
        const { position } = subscriber;
        if (event.id !== undefined && position !== undefined && broker.compareIds(event.id, position) <= 0)
          continue;
        send(event);
      }
      subscriber.coveredThrough = subscriber.position;
      send(liveEvent(channel));
    } catch (cause) {
      detach(subscriber);
      throw new SwitchboardError(ErrorCode.BROKER_UNAVAILABLE, `cannot subscribe to ${channel} now`, {
        cause,
      });
    }
    return subscriber;
  }

  return {
    attach: (stream, connection, subscriptionId) =>
      attachSubscriber(stream, connection, subscriptionFramePrefix(subscriptionId)),
    detach: (subscription) => detach(subscription as Subscriber),
    attachSse: async (stream, sink) => {
      const subscriber = await attachSubscriber(stream, sink, null);
      return () => detach(subscriber);
    },
  };
}

/** One subscriber's own encoding of an event (history, notices): a WebSocket frame or an SSE chunk. */
function encodeFor(subscriber: Subscriber, event: BrokerEvent, position: string | undefined): Buffer {
  return subscriber.prefix === null
    ? sseEventChunk(event, position)
    : encodeTextFrame(subscriber.prefix, eventFrameTail(event, position));
}

/**
 * Sends the history a subscription asks for, moving the subscriber's position.
 * Resume never replays part of a gap as if it were whole: when history does not reach back to
 * `lastEventId`, the client gets a `$gap` event and continues live.
 *
 * Whatever is sent first leaves the subscriber a position that resumes exactly (the `$live` and `$gap`
 * frames carry it as their tracked id): the channel's head is read before history, so on an empty channel,
 * after a short replay or after a gap, the position is "everything up to the head was dealt with", and any
 * newer event is in the history read or in the live buffer, never in between.
 */
async function sendHistory(
  broker: Broker,
  stream: ChannelStream,
  subscriber: Subscriber,
  send: (event: BrokerEvent) => void,
): Promise<void> {
  const { channel, lastEventId, replay } = stream;
  const head = await broker.position(channel);
  if (lastEventId === undefined && replay === 0) {
    subscriber.position = head;
    return;
  }
  const result = await broker.history(
    channel,
    lastEventId === undefined ? { last: replay } : { after: lastEventId },
  );
  if (!result.recovered) {
    subscriber.position = head;
    send(gapEvent(channel, result.reason, lastEventId));
    if (result.reason === 'epoch-changed') {
      // The stream was recreated after the client's last event, so everything it holds is newer: send it
      // (after the gap notice, which already says that what came before is lost).
      const recreated = await broker.history(channel, { last: ProtocolLimits.maxReplay });
      if (recreated.recovered) for (const event of recreated.events) send(event);
    }
    return;
  }
  if (lastEventId === undefined) subscriber.position = head;
  for (const event of result.events) send(event);
}

/** The `$gap` notice: data between `lastEventId` and what follows is missing; the app should refetch. */
function gapEvent(channel: string, reason: Gap['reason'], lastEventId: string | undefined): BrokerEvent {
  const gap: Envelope = {
    type: SystemEventType.GAP,
    channel,
    payload: { recovered: false, reason, lastEventId },
    ts: Date.now(),
  };
  return { channel, type: gap.type, json: JSON.stringify(gap) };
}

/** The `$live` notice: caught up, live from here; carries the subscriber's position as its tracked id. */
function liveEvent(channel: string): BrokerEvent {
  const live: Envelope = { type: SystemEventType.LIVE, channel, payload: {}, ts: Date.now() };
  return { channel, type: live.type, json: JSON.stringify(live) };
}
