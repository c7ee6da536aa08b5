import { z } from 'zod';
import { ProtocolLimits } from './limits.ts';

/**
 * Channel names are `<family>:<key>`, e.g. `chat:room-42` or `user:u_123`.
 *
 * The family is a lowercase identifier; the key is printable ASCII without whitespace, wildcards
 * (`*`, `?`, `>`, `[`, `]`) or braces. Braces are excluded because channel names are embedded in Redis
 * hash tags (`sb:{chat:room-42}:stream`): a brace in the name would move keys to another shard.
 */
export const CHANNEL_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,31}:[A-Za-z0-9_.:@=+-]+$/;

export const channelNameSchema = z
  .string()
  .min(1, 'channel name is empty')
  .max(
    ProtocolLimits.maxChannelNameLength,
    `channel name is over ${ProtocolLimits.maxChannelNameLength} chars`,
  )
  .regex(CHANNEL_NAME_PATTERN, 'channel name must be <family>:<key> without wildcards or control characters');

export type ChannelName = z.infer<typeof channelNameSchema>;

/** Splits a valid channel name into its family and key. */
export function parseChannelName(name: string): { family: string; key: string } {
  const colon = name.indexOf(':');
  return { family: name.slice(0, colon), key: name.slice(colon + 1) };
}
