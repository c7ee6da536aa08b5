import type { ConnectionState } from '@switchboard/client';

/** With no delta for longer than this, the figures on screen are marked stale. */
export const STALE_AFTER_MS = 3000;

/**
 * - `live`: a delta arrived in the last `STALE_AFTER_MS`;
 * - `stale`: connected, but no recent delta (server overloaded or the stream stalled);
 * - `disconnected`: the connection is not open, so nothing can arrive.
 * - `waiting`: connected, nothing received yet.
 */
export type Freshness = 'live' | 'stale' | 'disconnected' | 'waiting';

export function freshnessOf(
  connection: ConnectionState,
  lastReceivedAt: number | null,
  now: number,
): Freshness {
  if (connection.status !== 'open') return 'disconnected';
  if (lastReceivedAt === null) return 'waiting';
  return now - lastReceivedAt > STALE_AFTER_MS ? 'stale' : 'live';
}
