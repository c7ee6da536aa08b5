import {
  type Envelope,
  type Gap,
  type PresenceChange,
  type PresenceMember,
  type PresenceMeta,
  type SubscribeInput,
  type SwitchboardError,
  SystemEventType,
} from '@switchboard/protocol';
import { callSafely } from './callSafely.ts';
import type { ChannelProcedures, ChannelStreamItem } from './channelProcedures.ts';
import { toSwitchboardError } from './errors.ts';
import { MAX_REPLAY } from './options.ts';
import { applyPresenceChange } from './presenceMembers.ts';
import { createRecentIds } from './recentIds.ts';

/**
 * The state of a channel subscription:
 * - `subscribing`: requested, the server has not confirmed yet;
 * - `live`: events flow;
 * - `resuming`: the connection dropped; on reconnect the subscription resumes after the last event seen;
 * - `closed`: the client stopped (closed, or refused for good);
 * - `error`: the server refused the subscription (see the error).
 */
export type ChannelStatus = 'subscribing' | 'live' | 'resuming' | 'closed' | 'error';

type ChannelStatusEvent = 'subscribe' | 'started' | 'connection-lost' | 'ended' | 'failed';

/** The transition function of a channel subscription's state. */
export function nextChannelStatus(status: ChannelStatus, event: ChannelStatusEvent): ChannelStatus {
  switch (event) {
    case 'subscribe':
      return status === 'closed' || status === 'error' ? 'subscribing' : status;
    case 'started':
      return 'live';
    case 'connection-lost':
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
  setPresence(meta: PresenceMeta): Promise<void>;
  /** Starts the subscription again after the client's `reconnect()`. */
  restart(): void;
}

export interface ChannelSessionDeps {
  channel: string;
  procedures: ChannelProcedures;
  /** True when the client is closed: nothing may start. */
  isStopped(): boolean;
  unsubscribeDelayMs: number;
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
  let startCount = 0;
  let disposed = false;
  let disposeTimer: ReturnType<typeof setTimeout> | undefined;
  /** Id of the last stored event delivered: where to resume. */
  let lastStoredId: string | undefined;
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

  function whenLive(): Promise<void> {
    if (status === 'live') return Promise.resolve();
    if (disposed) return Promise.reject(new Error(`${channel}: no longer subscribed`));
    return new Promise((resolve, reject) => liveWaiters.push({ resolve, reject }));
  }

  function scheduleStart() {
    if (startScheduled || subscription || disposed) return;
    startScheduled = true;
    // Deferred, so listeners added in the same tick (two hooks in one component) all count toward `replay`.
    queueMicrotask(() => {
      startScheduled = false;
      start();
    });
  }

  function start() {
    if (subscription || disposed || entries.size === 0) return;
    if (deps.isStopped()) return setStatus('ended');
    const input: SubscribeInput = { channel };
    if (lastStoredId !== undefined) input.lastEventId = lastStoredId;
    else if (ringSize > 0) input.replay = ringSize;
    error = null;
    setStatus('subscribe');
    // After a reconnect tRPC re-sends this request itself, with the id of the last frame as `lastEventId`;
    // this function runs again only for a new subscription (first listener, `reconnect()` after `closed`).
    // tRPC calls `onConnectionStateChange` synchronously, before `subscribe` returns: `created` is still undefined.
    let created: { unsubscribe(): void } | undefined;
    created = procedures.channel.subscribe.subscribe(input, {
      onStarted() {
        if (subscription !== created) return;
        startCount++;
        // A new connection has no metadata for us; setPresence calls waiting for `live` send their own.
        const reapply = startCount > 1 && presenceMeta !== undefined && liveWaiters.length === 0;
        setStatus('started');
        loadPresence();
        if (reapply) sendPresence(presenceMeta!).catch(() => {});
      },
      onData(item) {
        if (subscription === created) receive(item);
      },
      onConnectionStateChange(state) {
        if (subscription === created && state.state === 'connecting') setStatus('connection-lost');
      },
      onError(cause) {
        if (subscription !== created) return;
        subscription = null;
        error = toSwitchboardError(cause);
        for (const { listener } of readyEntries()) callSafely(listener.onError, error);
        setStatus('failed');
      },
      onComplete() {
        if (subscription !== created) return;
        subscription = null;
        setStatus('ended');
      },
    });
    subscription = created;
  }

  function receive(item: ChannelStreamItem) {
    const envelope = item?.data;
    if (typeof envelope?.type !== 'string') return;
    if (envelope.type === SystemEventType.PRESENCE)
      return receivePresence(envelope.payload as PresenceChange);
    if (envelope.type === SystemEventType.GAP) {
      // History no longer reaches our position: continue live from here, and say so.
      lastStoredId = undefined;
      for (const { listener } of readyEntries()) callSafely(listener.onGap, envelope.payload as Gap);
      return;
    }
    // `$live` and any system type this client does not know: not an app event.
    if (envelope.type.startsWith('$')) return;
    if (envelope.id !== undefined) {
      if (!recent.add(envelope.id)) return;
      lastStoredId = envelope.id;
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
        if (status === 'error' && error) callSafely(listener.onError, error);
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
    async setPresence(meta) {
      presenceMeta = meta;
      await whenLive();
      // A later call replaced this metadata and sends its own.
      if (presenceMeta !== meta) return;
      await sendPresence(meta);
    },
    restart() {
      if (!disposed && entries.size > 0 && !subscription) scheduleStart();
    },
  };
}
