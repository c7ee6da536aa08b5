import type { ResolvedBackoffOptions } from './options.ts';

/**
 * Reconnect delays: exponential backoff with "full jitter", from the AWS Architecture Blog, "Exponential
 * Backoff And Jitter" (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/):
 *
 *   delay = random_between(0, min(cap, base * 2 ** attempt))
 *
 * The randomness is the point. Without it (tRPC's default `exponentialBackoff`), every client that lost the
 * same server retries at the same instants and the restarted server meets them all at once.
 */

/** The upper bound of the delay before retry number `retryIndex` (0-based), in ms. */
export function backoffCeilingMs(
  retryIndex: number,
  options: Pick<ResolvedBackoffOptions, 'initialDelayMs' | 'maxDelayMs'>,
): number {
  // 2 ** large is Infinity, which `Math.min` turns into the cap.
  return Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** retryIndex);
}

/** The delay before retry number `retryIndex` (0-based), in ms: uniform in [0, ceiling). */
export function fullJitterDelayMs(
  retryIndex: number,
  options: Pick<ResolvedBackoffOptions, 'initialDelayMs' | 'maxDelayMs'>,
  random: () => number = Math.random,
): number {
  return Math.floor(random() * backoffCeilingMs(retryIndex, options));
}

/** The retry schedule of one client: grows with every retry, resets after a stable connection. */
export interface Backoff {
  /** The delay before the next retry, in ms; each call moves the schedule on. */
  next(): number;
  /** A connection opened at `nowMs`. */
  opened(nowMs: number): void;
  /** The connection closed at `nowMs`: if it was open for `stableAfterMs`, the schedule starts over. */
  closed(nowMs: number): void;
  /** Starts the schedule over (the network came back, or the app asked to reconnect). */
  reset(): void;
  /** Retries since the schedule last started over. */
  readonly retryIndex: number;
}

export function createBackoff(options: ResolvedBackoffOptions, random: () => number = Math.random): Backoff {
  let retryIndex = 0;
  let openedAt: number | undefined;
  return {
    next: () => fullJitterDelayMs(retryIndex++, options, random),
    opened(nowMs) {
      openedAt = nowMs;
    },
    closed(nowMs) {
      if (openedAt !== undefined && nowMs - openedAt >= options.stableAfterMs) retryIndex = 0;
      openedAt = undefined;
    },
    reset() {
      retryIndex = 0;
    },
    get retryIndex() {
      return retryIndex;
    },
  };
}
