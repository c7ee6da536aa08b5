/**
 * Wire-level size limits that both ends must agree on. Server-side tunables (rates, counts per
 * connection) live in the server's options; these are part of the protocol grammar itself.
 */
export const ProtocolLimits = {
  /** Longest channel name, in characters. */
  maxChannelNameLength: 200,
  /** Longest correlation id, in characters. */
  maxCorrelationIdLength: 128,
  /** Longest event type name, in characters. */
  maxEventTypeLength: 64,
  /** Longest event id, in characters (epoch + stream id). */
  maxEventIdLength: 64,
  /** Most stored events a subscription may ask to replay (`replay`), and the most resent after a recreated stream. */
  maxReplay: 1000,
  /** Longest idempotency key of a publish, in characters. */
  maxIdempotencyKeyLength: 128,
  /** Largest presence metadata object, in bytes of JSON. */
  maxPresenceMetaBytes: 1024,
} as const;
