import type { ChannelHandle } from '@switchboard/client';
import type { ChannelDefinition } from '@switchboard/protocol';
import { useMemo } from 'react';
import { useSwitchboard } from './useSwitchboard.ts';

/**
 * A stable `publish(type, payload)` for a channel, typed from its definition; resolves with the event id
 * (see `ChannelHandle.publish`).
 */
export function usePublish<TDef extends ChannelDefinition>(
  definition: TDef,
  key: string,
): ChannelHandle<TDef>['publish'] {
  const client = useSwitchboard();
  return useMemo(() => {
    const channel = client.channel(definition, key);
    return (type, payload, options) => channel.publish(type, payload, options);
  }, [client, definition, key]);
}
