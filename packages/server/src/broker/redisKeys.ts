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
  /** Hash: scoped idempotency key → `<epoch>\n<stream id>\n<fingerprint>`. */
  idempotency: string;
  /** List of `<stream id>\n<key>`, oldest first: bounds the idempotency hash to the newest records. */
  idempotencyOrder: string;
  /** Pub/sub channel (sharded on a cluster). */
  pubsub: string;
}

export function channelKeys(prefix: string, channel: string): ChannelKeys {
  const tagged = `${prefix}:{${channel}}`;
  return {
    stream: `${tagged}:stream`,
    epoch: `${tagged}:epoch`,
    presence: `${tagged}:presence`,
    idempotency: `${tagged}:idem`,
    idempotencyOrder: `${tagged}:idem-order`,
    pubsub: tagged,
  };
}

/**
 * How long a channel's history keys live after its last publish or use, in ms. They outlive the newest
 * event by one more history age, so a client resuming late is told `evicted` (or resumes exactly, when it
 * had seen the newest event) rather than `epoch-changed`.
 */
export function channelKeyTtlMs(historyMaxAgeMs: number): number {
  return 2 * historyMaxAgeMs;
}
