import {
  type Envelope,
  ErrorCode,
  type Gap,
  type PresenceChange,
  type PresenceMember,
  type PresenceMeta,
  type SubscribeInput,
  SwitchboardError,
  SystemEventType,
} from '@switchboard/protocol';
import { createBackoff } from './backoff.ts';
import { callSafely } from './callSafely.ts';
import type { ChannelProcedures, ChannelStreamItem } from './channelProcedures.ts';
import { isRetryableError, toSwitchboardError } from './errors.ts';
import { MAX_REPLAY, type ResolvedBackoffOptions } from './options.ts';
import { applyPresenceChange } from './presenceMembers.ts';
import { createRecentIds } from './recentIds.ts';

/**
 * The state of a channel subscription:
 * - `subscribing`: requested, not caught up yet (also while a failed first attempt waits to be retried);
 * - `live`: the server sent what was missed (`$live`) and events flow;
 * - `resuming`: the connection dropped, or subscribing again failed and waits to be retried; the
 *   subscription resumes after the last event seen;
 * - `closed`: the client stopped (closed, or refused for good);
 * - `error`: the server refused the subscription for a reason retrying cannot fix (see the error).
 */
export type ChannelStatus = 'subscribing' | 'live' | 'resuming' | 'closed' | 'error';

type ChannelStatusEvent = 'subscribe' | 'live' | 'connection-lost' | 'retry-scheduled' | 'ended' | 'failed';

/** The transition function of a channel subscription's state. */
export function nextChannelStatus(status: ChannelStatus, event: ChannelStatusEvent): ChannelStatus {
  switch (event) {
    case 'subscribe':
      return status === 'closed' || status === 'error' ? 'subscribing' : status;
    case 'live':
      return 'live';
    case 'connection-lost':
    case 'retry-scheduled':
      return status === 'live' ? 'resuming' : status;
    case 'ended':
      return 'closed';
    case 'failed':
      return 'error';
  }
}

/** One local consumer of a channel. Receives the channel's state first, then changes. */
export interface SessionListener {
  /** Stored events seen so far (up to this many) are delivered first; see `ChannelListener.replay`. */
  replay: number;
  onEvent?(envelope: Envelope): void;
  onPresence?(members: readonly PresenceMember[], change: PresenceChange | null): void;
  onGap?(gap: Gap): void;
  onStatus?(status: ChannelStatus): void;
  onError?(error: SwitchboardError): void;
}

/**
 * The one server subscription of a client to a channel, shared by every local listener and reference
 * counted: the first listener starts it, the last one to leave stops it (after `unsubscribeDelayMs`).
 */
export interface ChannelSession {
  readonly channel: string;
  /** Adds a listener; returns its (idempotent) removal. */
  add(listener: SessionListener): () => void;
  /**
   * Sets this connection's presence metadata once the subscription is live, and again after every
   * resume (a new connection starts without it).
   */
  setPresence(meta: PresenceMeta, timeoutMs?: number): Promise<void>;
  /** Starts the subscription again after the client's `reconnect()`. */
  restart(): void;
  /** The client stopped: a subscription waiting to be retried is not, and reports `closed`. */
  stop(): void;
}

export interface ChannelSessionDeps {
  channel: string;
  procedures: ChannelProcedures;
  /** True when the client is closed: nothing may start. */
  isStopped(): boolean;
  /**
   * Runs a deferred start in the client's call order (`CallOrder.enqueue`), so calls made after
   * `subscribe()` leave after the subscription. Returns the cancel function.
   */
  enqueue(start: () => void): () => void;
  /** How long `setPresence` waits for the subscription to be live, in ms (`Infinity`: forever). */
  callTimeoutMs: number;
  unsubscribeDelayMs: number;
  /** Delays between retries of a subscription that failed with a retryable error. */
  backoff: ResolvedBackoffOptions;
  /** The session stopped for good (no listeners left); the client forgets it. */
  onDisposed(): void;
}

/** Ids remembered for dedupe: more than one full replay, so a repeated replay is always caught. */
const RECENT_IDS_CAPACITY = 2 * MAX_REPLAY;

interface Entry {
  listener: SessionListener;
  /** False until the listener has received the channel's current state. */
  ready: boolean;
}

export function createChannelSession(deps: ChannelSessionDeps): ChannelSession {
  const { channel, procedures } = deps;
  const entries = new Set<Entry>();
  const recent = createRecentIds(RECENT_IDS_CAPACITY);
  /** Stored events kept for listeners that join later with `replay`. */
  const ring: Envelope[] = [];
  let ringSize = 0;
  let status: ChannelStatus = 'subscribing';
  let error: SwitchboardError | null = null;
  let subscription: { unsubscribe(): void } | null = null;
  let startScheduled = false;
  let disposed = false;
  let disposeTimer: ReturnType<typeof setTimeout> | undefined;
  const retryBackoff = createBackoff(deps.backoff);
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  /**
   * Where to resume: the tracked id of the last frame, exactly what tRPC re-sends as `lastEventId` after
   * a reconnect (the last stored event, or the position `$live`, `$gap` or an ephemeral event reported).
   */
  let position: string | undefined;
  /**
   * The last request asked for `replay` without a position, and may have reached the server or not. If it
   * is sent again before anything positioned came back, the new replay counts back from a later moment.
   */
  let replayAskedWithoutPosition = false;
  /** Such a request is being sent again: its first frame is preceded by a `not-started` gap. */
  let notStartedGapDue = false;
  let members: readonly PresenceMember[] | undefined;
  /** `$presence` changes that arrived while the member list was loading; null when not loading. */
  let presenceBuffer: PresenceChange[] | null = null;
  let presenceLoad = 0;
  let presenceMeta: PresenceMeta | undefined;
  let liveWaiters: { resolve(): void; reject(error: Error): void }[] = [];

  function readyEntries() {
    return [...entries].filter((entry) => entry.ready);
  }

  function setStatus(event: ChannelStatusEvent) {
    const next = nextChannelStatus(status, event);
    if (next === status) return;
    status = next;
    for (const { listener } of readyEntries()) callSafely(listener.onStatus, status);
    if (status === 'live') settleLiveWaiters();
    else if (status === 'closed' || status === 'error')
      settleLiveWaiters(error ?? new Error(`${channel}: ${status}`));
  }

  function settleLiveWaiters(failure?: Error) {
    const waiters = liveWaiters;
    liveWaiters = [];
    for (const waiter of waiters) failure ? waiter.reject(failure) : waiter.resolve();
  }

  /** Resolves once live; rejects with `TIMEOUT` after `timeoutMs`, or when the subscription ends. */
  function whenLive(timeoutMs: number): Promise<void> {
    if (status === 'live') return Promise.resolve();
    if (disposed) return Promise.reject(new Error(`${channel}: no longer subscribed`));
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waiter = {
        resolve() {
          clearTimeout(timer);
          resolve();
        },
        reject(failure: Error) {
          clearTimeout(timer);
          reject(failure);
        },
      };
      liveWaiters.push(waiter);
      // setTimeout would fire an infinite delay at once.
      if (Number.isFinite(timeoutMs))
        timer = setTimeout(() => {
          liveWaiters = liveWaiters.filter((other) => other !== waiter);
          reject(
            new SwitchboardError(
              ErrorCode.TIMEOUT,
              `${channel}: not live within ${timeoutMs} ms (status ${status}); the presence is set once it is`,
            ),
          );
        }, timeoutMs);
    });
  }

  function scheduleStart() {
    if (startScheduled || subscription || disposed) return;
    startScheduled = true;
    // Deferred, so listeners added in the same tick (two hooks in one component) all count toward `replay`;
    // in the client's call order, so a publish made right after `subscribe()` still leaves after it.
    deps.enqueue(() => {
      startScheduled = false;
      start();
    });
  }

  function start() {
    clearTimeout(retryTimer);
    retryTimer = undefined;
    if (subscription || disposed || entries.size === 0) return;
    if (deps.isStopped()) return setStatus('ended');
    const input: SubscribeInput = { channel };
    if (position !== undefined) input.lastEventId = position;
    else if (ringSize > 0) {
      input.replay = ringSize;
      // A retry after a failure: the first request may have been refused, or lost after the server had
      // started it; either way, this replay is not the one asked for.
      if (replayAskedWithoutPosition) notStartedGapDue = true;
      replayAskedWithoutPosition = true;
    }
    error = null;
    setStatus('subscribe');
    // After a reconnect tRPC re-sends this request itself, with the id of the last frame as `lastEventId`;
    // this function runs again only for a new subscription (first listener, a retry after a failure,
    // `reconnect()` after `closed`).
    // tRPC calls `onConnectionStateChange` synchronously, before `subscribe` returns: `created` is still undefined.
    let created: { unsubscribe(): void } | undefined;
    created = procedures.channel.subscribe.subscribe(input, {
      onData(item) {
        if (subscription === created) receive(item);
      },
      onConnectionStateChange(state) {
        if (subscription !== created || state.state !== 'connecting') return;
        // tRPC sends the same request again once connected, with the same `replay` (see above).
        if (replayAskedWithoutPosition && position === undefined) notStartedGapDue = true;
        setStatus('connection-lost');
      },
      onError(cause) {
        if (subscription !== created) return;
        subscription = null;
        error = toSwitchboardError(cause);
        if (deps.isStopped()) setStatus('ended');
        else if (isRetryableError(error) && entries.size > 0) scheduleRetry();
        else setStatus('failed');
        // After the status: a view drops its error on any status change but to `error`.
        for (const { listener } of readyEntries()) callSafely(listener.onError, error);
      },
      onComplete() {
        if (subscription !== created) return;
        subscription = null;
        setStatus('ended');
      },
    });
    subscription = created;
  }

  /** Tries the failed subscription again after the backoff delay, from where it was. */
  function scheduleRetry() {
    retryBackoff.closed(Date.now());
    setStatus('retry-scheduled');
    clearTimeout(retryTimer);
    retryTimer = setTimeout(start, retryBackoff.next());
  }

  /** `$live`: the server sent what this subscription missed and it is attached to the channel. */
  function caughtUp() {
    retryBackoff.opened(Date.now());
    // A new connection has no metadata for us; setPresence calls waiting for `live` send their own (one
    // that timed out no longer waits, and its metadata is sent here).
    const reapply = presenceMeta !== undefined && liveWaiters.length === 0;
    setStatus('live');
    loadPresence();
    if (reapply) sendPresence(presenceMeta!).catch(() => {});
  }

  function receive(item: ChannelStreamItem) {
    if (notStartedGapDue) {
      notStartedGapDue = false;
      const gap: Gap = { recovered: false, reason: 'not-started', lastEventId: '' };
      for (const { listener } of readyEntries()) callSafely(listener.onGap, gap);
    }
    // Every frame the server sends carries the position to resume from (`$live`, `$gap`, ephemeral events
    // too); a frame without one (an older server's `$gap`) leaves the last known position in place.
    if (item?.id !== undefined) {
      position = item.id;
      replayAskedWithoutPosition = false;
    }
    const envelope = item?.data;
    if (typeof envelope?.type !== 'string') return;
    if (envelope.type === SystemEventType.PRESENCE)
      return receivePresence(envelope.payload as PresenceChange);
    if (envelope.type === SystemEventType.GAP) {
      // History no longer reaches our position: continue live from here, and say so.
      for (const { listener } of readyEntries()) callSafely(listener.onGap, envelope.payload as Gap);
      return;
    }
    if (envelope.type === SystemEventType.LIVE) return caughtUp();
    // A system type this client does not know: not an app event.
    if (envelope.type.startsWith('$')) return;
    if (envelope.id !== undefined) {
      if (!recent.add(envelope.id)) return;
      if (ringSize > 0) {
        ring.push(envelope);
        if (ring.length > ringSize) ring.splice(0, ring.length - ringSize);
      }
    }
    for (const { listener } of readyEntries()) callSafely(listener.onEvent, envelope);
  }

  /**
   * Loads the member list after every (re)start: presence changes are not stored, so any that happened
   * while disconnected are only in a fresh list. Changes that arrive meanwhile are buffered and applied on
   * top; a change is the member's whole new state, so one already in the list applies harmlessly.
   */
  function loadPresence() {
    const load = ++presenceLoad;
    presenceBuffer = [];
    const settle = (loaded: readonly PresenceMember[]) => {
      if (load !== presenceLoad || disposed) return;
      let next = loaded;
      for (const change of presenceBuffer ?? []) next = applyPresenceChange(next, change);
      presenceBuffer = null;
      members = next;
      for (const { listener } of readyEntries()) callSafely(listener.onPresence, next, null);
    };
    procedures.channel.presence.query({ channel }).then(
      (result) => settle(result.members),
      () => settle(members ?? []),
    );
  }

  function receivePresence(change: PresenceChange) {
    if (presenceBuffer) {
      presenceBuffer.push(change);
      return;
    }
    members = applyPresenceChange(members ?? [], change);
    for (const { listener } of readyEntries()) callSafely(listener.onPresence, members, change);
  }

  async function sendPresence(meta: PresenceMeta) {
    try {
      await procedures.channel.setPresence.mutate({ channel, meta });
    } catch (cause) {
      throw toSwitchboardError(cause);
    }
  }

  function remove(entry: Entry) {
    if (!entries.delete(entry) || entries.size > 0) return;
    clearTimeout(disposeTimer);
    disposeTimer = setTimeout(() => {
      if (entries.size === 0) dispose();
    }, deps.unsubscribeDelayMs);
  }

  function dispose() {
    if (disposed) return;
    disposed = true;
    clearTimeout(retryTimer);
    const active = subscription;
    subscription = null;
    active?.unsubscribe();
    settleLiveWaiters(new Error(`${channel}: no longer subscribed`));
    deps.onDisposed();
  }

  return {
    channel,
    add(listener) {
      if (disposed) throw new Error(`${channel}: session disposed`);
      clearTimeout(disposeTimer);
      const entry: Entry = { listener, ready: false };
      entries.add(entry);
      ringSize = Math.max(ringSize, Math.min(listener.replay, MAX_REPLAY));
      if (!subscription) scheduleStart();
      // Catch the listener up on the next microtask, not inside `add`: callbacks never run before the
      // caller has its unsubscribe function.
      queueMicrotask(() => {
        if (!entries.has(entry)) return;
        entry.ready = true;
        callSafely(listener.onStatus, status);
        // Also while a failure waits to be retried: the listener learns why it is not live yet.
        if (error) callSafely(listener.onError, error);
        if (listener.replay > 0)
          for (const event of ring.slice(-listener.replay)) callSafely(listener.onEvent, event);
        if (members) callSafely(listener.onPresence, members, null);
      });
      let removed = false;
      return () => {
        if (removed) return;
        removed = true;
        remove(entry);
      };
    },
    async setPresence(meta, timeoutMs = deps.callTimeoutMs) {
      presenceMeta = meta;
      await whenLive(timeoutMs);
      // A later call replaced this metadata and sends its own.
      if (presenceMeta !== meta) return;
      await sendPresence(meta);
    },
    restart() {
      retryBackoff.reset();
      if (!disposed && entries.size > 0 && !subscription) scheduleStart();
    },
    stop() {
      // An active subscription ends by itself when tRPC's client closes (`onComplete`).
      if (retryTimer === undefined) return;
      clearTimeout(retryTimer);
      retryTimer = undefined;
      setStatus('ended');
    },
  };
}
