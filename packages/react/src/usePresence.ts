import type { ChannelDefinition, PresenceMember } from '@switchboard/protocol';
import { useChannel } from './useChannel.ts';

const PRESENCE_ONLY = { maxEvents: 0 } as const;

/** The members of a channel, kept current (subscribes to the channel while mounted). */
export function usePresence<TDef extends ChannelDefinition>(
  definition: TDef,
  key: string,
): readonly PresenceMember[] {
  return useChannel(definition, key, PRESENCE_ONLY).members;
}
