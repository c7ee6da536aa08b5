/**
 * The Redis names of one channel. All share the hash tag `{<channel>}`, so on a Redis Cluster a channel's
 * stream, epoch, presence and sharded pub/sub channel live on one shard and one Lua script can touch
 * them all. Channel names cannot contain braces (`CHANNEL_NAME_PATTERN`), so the tag is always the name.
 */
export interface ChannelKeys {
  /** Stream of stored events: fields `t` (type), `d` (envelope JSON), `p` (previous entry id). */
  stream: string;
  /** Random epoch created with the stream. */
  epoch: string;
  /** Hash: connectionId → presence entry JSON. */
  presence: string;
  /** Pub/sub channel (sharded on a cluster). */
  pubsub: string;
}

export function channelKeys(prefix: string, channel: string): ChannelKeys {
  const tagged = `${prefix}:{${channel}}`;
  return {
    stream: `${tagged}:stream`,
    epoch: `${tagged}:epoch`,
    presence: `${tagged}:presence`,
    pubsub: tagged,
  };
}
