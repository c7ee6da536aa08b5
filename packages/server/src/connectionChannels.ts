import { KeyedQueue, type PresenceMeta } from '@switchboard/protocol';
import type { Logger } from 'pino';
import type { Fanout, FanoutSubscription } from './fanout.ts';
import type { Presence } from './presence.ts';

/** One subscription of a connection, from its request until it lets go of what it held. */
export interface Subscription {
  readonly id: string | number;
  /** Set by a stop (the client's, or the connection closing); an attach still under way sees it and lets go. */
  stopped: boolean;
  /** The signal an app's own subscription procedure gets; undefined for the built-in `channel.subscribe`. */
  readonly abort: AbortController | undefined;
  /** The channel the subscription entered (it counts there from then on, attached yet or not). */
  channel: string | undefined;
  /** Whether that channel's family tracks presence. */
  presence: boolean;
  /** The fan-out handle once attached. */
  attachment: FanoutSubscription | undefined;
}

export interface ConnectionChannelsDeps {
  fanout: Fanout;
  presence: Presence;
}

/** The connection these channels belong to, as they see it. */
export interface ChannelsHolder {
  readonly id: string;
  log(): Logger;
}

/**
 * What one connection holds: its subscriptions by request id, the channels they are in (with the presence
 * metadata set there), and the order of its requests per channel. Created with the first request that
 * needs it.
 *
 * Plain arrays searched from the front rather than Maps: a Map costs about 200 bytes even with one entry,
 * most connections hold one or two subscriptions, and none holds more than `maxSubscriptionsPerConnection`.
 */
export class ConnectionChannels {
  /** Every subscription not yet released: stopped ones stay while their attach is under way. */
  private readonly subscriptions: Subscription[] = [];
  private metaByChannel: Map<string, PresenceMeta> | undefined;
  /** Requests naming the same channel run in arrival order (see `keyedQueue.ts`; it holds nothing when idle). */
  private readonly order = new KeyedQueue();

  constructor(
    private readonly holder: ChannelsHolder,
    private readonly deps: ConnectionChannelsDeps,
  ) {}

  /** The subscription with this request id that is not stopped. */
  find(id: string | number): Subscription | undefined {
    return this.subscriptions.find((s) => s.id === id && !s.stopped);
  }

  /** Subscriptions not stopped (the ones `maxSubscriptionsPerConnection` counts). */
  activeCount(): number {
    let count = 0;
    for (const s of this.subscriptions) if (!s.stopped) count++;
    return count;
  }

  /** Reserves a subscription for a request, with an `AbortController` when its procedure gets a signal. */
  open(id: string | number, withSignal: boolean): Subscription {
    const subscription: Subscription = {
      id,
      stopped: false,
      abort: withSignal ? new AbortController() : undefined,
      channel: undefined,
      presence: false,
      attachment: undefined,
    };
    this.subscriptions.push(subscription);
    return subscription;
  }

  /** How many subscriptions are in `channel` (attached, or attaching). */
  countIn(channel: string): number {
    let count = 0;
    for (const s of this.subscriptions) if (s.channel === channel) count++;
    return count;
  }

  /** Whether some subscription is in `channel`. */
  holds(channel: string): boolean {
    return this.subscriptions.some((s) => s.channel === channel);
  }

  /** Whether a subscription may enter `channel` without this connection being in over `maxChannels`. */
  canEnter(channel: string, maxChannels: number): boolean {
    if (this.holds(channel)) return true;
    let entered = 0;
    for (const s of this.subscriptions) if (s.channel !== undefined) entered++;
    // Fewer subscriptions in channels than the limit cannot be in as many channels: no map built then.
    return entered < maxChannels || this.countsByChannel().size < maxChannels;
  }

  /** Channel → how many subscriptions are in it. */
  countsByChannel(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const s of this.subscriptions) {
      if (s.channel !== undefined) counts.set(s.channel, (counts.get(s.channel) ?? 0) + 1);
    }
    return counts;
  }

  /** The subscription enters its channel: it counts there until released. */
  enter(subscription: Subscription, channel: string, presence: boolean): void {
    subscription.channel = channel;
    subscription.presence = presence;
  }

  /**
   * Records that the subscription is attached to the fan-out. Returns false, having released it, when it
   * was stopped while attaching.
   */
  attached(subscription: Subscription, attachment: FanoutSubscription): boolean {
    subscription.attachment = attachment;
    if (!subscription.stopped) return true;
    this.release(subscription);
    return false;
  }

  /**
   * Stops a subscription: aborts an app's procedure, and releases it, unless its attach is under way (that
   * attach releases it when it ends, see `attached`).
   */
  stop(subscription: Subscription): void {
    subscription.stopped = true;
    subscription.abort?.abort();
    if (subscription.channel !== undefined && subscription.attachment === undefined) return;
    this.release(subscription);
  }

  /** Stops every subscription (the connection closed). */
  stopAll(): void {
    for (const subscription of [...this.subscriptions]) this.stop(subscription);
  }

  /**
   * Lets go of what a subscription holds: its fan-out attachment, and its channel. Leaving a channel's last
   * subscription drops the presence metadata set there and, in a presence family, leaves its presence.
   * Idempotent.
   */
  release(subscription: Subscription): void {
    const index = this.subscriptions.indexOf(subscription);
    if (index === -1) return;
    this.subscriptions.splice(index, 1);
    if (subscription.attachment) this.deps.fanout.detach(subscription.attachment);
    const { channel } = subscription;
    if (channel === undefined || this.holds(channel)) return;
    this.metaByChannel?.delete(channel);
    if (this.metaByChannel?.size === 0) this.metaByChannel = undefined;
    if (!subscription.presence) return;
    // In the channel's order, so a resubscribe that follows in the same frame joins after this leave.
    void this.inOrder(channel, () =>
      this.deps.presence
        .leave(this.holder.id, channel)
        .catch((err: unknown) => this.holder.log().warn({ err, channel }, 'presence leave failed')),
    );
  }

  /** Presence metadata per channel, undefined until the first `setPresenceMeta`. */
  get presenceMeta(): ReadonlyMap<string, PresenceMeta> | undefined {
    return this.metaByChannel;
  }

  /** Keeps `meta` for `channel` while a subscription is in it (ignored otherwise). */
  setPresenceMeta(channel: string, meta: PresenceMeta): void {
    if (!this.holds(channel)) return;
    this.metaByChannel ??= new Map();
    this.metaByChannel.set(channel, meta);
  }

  /** Runs `task` after every earlier task of `channel` has settled; resolves or rejects as `task` does. */
  inOrder<T>(channel: string, task: () => Promise<T>): Promise<T> {
    return this.order.run(channel, task);
  }
}
