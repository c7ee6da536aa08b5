import type { ChannelSnapshot, ChannelViewOptions } from '@switchboard/client';
import type { ChannelDefinition, ChannelEvent } from '@switchboard/protocol';
import { useMemo, useSyncExternalStore } from 'react';
import { useLatest } from './useLatest.ts';
import { useSwitchboard } from './useSwitchboard.ts';

export interface UseChannelOptions<TDef extends ChannelDefinition> extends ChannelViewOptions {
  /** Called once per event as it arrives; the latest function is always used. */
  onEvent?(event: ChannelEvent<TDef>): void;
}

/**
 * Subscribes to a channel while the component is mounted and returns its snapshot: the newest `events`
 * (up to `maxEvents`), `status`, the last `gap`, `members` and `error`. Components subscribing to the same
 * channel share one server subscription (the client counts references).
 */
export function useChannel<TDef extends ChannelDefinition>(
  definition: TDef,
  key: string,
  options: UseChannelOptions<TDef> = {},
): ChannelSnapshot<TDef> {
  const client = useSwitchboard();
  const onEvent = useLatest(options.onEvent);
  const { replay, maxEvents } = options;
  const view = useMemo(
    () =>
      client
        .channel(definition, key)
        .view({ replay, maxEvents, onEvent: (event) => onEvent.current?.(event) }),
    [client, definition, key, replay, maxEvents, onEvent],
  );
  return useSyncExternalStore(view.subscribe, view.getSnapshot, view.getSnapshot);
}
