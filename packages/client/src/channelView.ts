import type {
  ChannelDefinition,
  ChannelEvent,
  Gap,
  PresenceMember,
  SwitchboardError,
} from '@switchboard/protocol';
import { callSafely } from './callSafely.ts';
import type { ChannelHandle } from './channel.ts';
import type { ChannelStatus } from './channelSession.ts';
import { type ChannelViewOptions, MAX_REPLAY, resolveChannelViewOptions } from './options.ts';
import { createRecentIds } from './recentIds.ts';

/** What a channel looks like to a UI at one moment. Replaced (never mutated) on every change. */
export interface ChannelSnapshot<TDef extends ChannelDefinition> {
  /** The newest events received, oldest first (at most `maxEvents`). */
  events: readonly ChannelEvent<TDef>[];
  status: ChannelStatus;
  /** The last gap reported (events were lost), or null. */
  gap: Gap | null;
  members: readonly PresenceMember[];
  /**
   * Why the subscription failed: for good when `status` is `error`, else the last failure of an attempt
   * that is being retried (null again once `live`).
   */
  error: SwitchboardError | null;
}

export interface ChannelViewInit<TDef extends ChannelDefinition> extends ChannelViewOptions {
  /** Called for every event, once, as it arrives (for apps that keep their own state). */
  onEvent?(event: ChannelEvent<TDef>): void;
}

/**
 * A channel as an external store (`subscribe` + `getSnapshot`), for `useSyncExternalStore`. The view
 * subscribes to the channel while it has watchers. Unsubscribing and subscribing again at once (React
 * Strict Mode) keeps its events, and a stored event replayed to it again is dropped, so `onEvent` never
 * sees one event twice.
 */
export interface ChannelView<TDef extends ChannelDefinition> {
  subscribe(onChange: () => void): () => void;
  getSnapshot(): ChannelSnapshot<TDef>;
}

export function createChannelView<TDef extends ChannelDefinition>(
  handle: ChannelHandle<TDef>,
  init: ChannelViewInit<TDef> = {},
): ChannelView<TDef> {
  const { replay, maxEvents } = resolveChannelViewOptions(init);
  const seen = createRecentIds(2 * MAX_REPLAY);
  const watchers = new Set<() => void>();
  let snapshot: ChannelSnapshot<TDef> = {
    events: [],
    status: 'subscribing',
    gap: null,
    members: [],
    error: null,
  };
  let unsubscribe: (() => void) | undefined;

  function update(patch: Partial<ChannelSnapshot<TDef>>) {
    snapshot = { ...snapshot, ...patch };
    for (const watcher of [...watchers]) watcher();
  }

  function attach() {
    unsubscribe = handle.subscribe({
      replay,
      onEvent(event) {
        if (event.id !== undefined && !seen.add(event.id)) return;
        callSafely(init.onEvent, event);
        if (maxEvents > 0) update({ events: [...snapshot.events, event].slice(-maxEvents) });
      },
      onStatus: (status) => update(status === 'error' ? { status } : { status, error: null }),
      onError: (error) => update({ error }),
      onGap: (gap) => update({ gap }),
      onPresence: (members) => update({ members }),
    });
  }

  return {
    subscribe(onChange) {
      watchers.add(onChange);
      if (watchers.size === 1) attach();
      return () => {
        if (!watchers.delete(onChange) || watchers.size > 0) return;
        unsubscribe?.();
        unsubscribe = undefined;
      };
    },
    getSnapshot: () => snapshot,
  };
}
