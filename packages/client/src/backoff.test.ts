import { seededRandom } from '@switchboard/server/testing';
import { describe, expect, it } from 'vitest';
import { backoffCeilingMs, createBackoff, fullJitterDelayMs } from './backoff.ts';
import { clientDefaults } from './options.ts';

const defaults = clientDefaults.backoff;

/** Share of the largest 100 ms bucket among these times. */
function largestBucketShare(timesMs: number[], bucketMs = 100): number {
  const buckets = new Map<number, number>();
  for (const t of timesMs)
    buckets.set(Math.floor(t / bucketMs), (buckets.get(Math.floor(t / bucketMs)) ?? 0) + 1);
  return Math.max(...buckets.values()) / timesMs.length;
}

describe('fullJitterDelayMs', () => {
  it('stays inside [0, cap] for every retry and every random value', () => {
    for (let retry = 0; retry < 64; retry++) {
      for (const r of [0, 0.25, 0.5, 0.999999999]) {
        const delay = fullJitterDelayMs(retry, defaults, () => r);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(defaults.maxDelayMs);
        expect(delay).toBeLessThan(backoffCeilingMs(retry, defaults));
      }
    }
    // Far past the cap, 2 ** n overflows to Infinity; the cap still holds.
    expect(fullJitterDelayMs(5000, defaults, () => 0.999999999)).toBeLessThanOrEqual(defaults.maxDelayMs);
  });

  it('doubles its ceiling from initialDelayMs up to maxDelayMs', () => {
    const ceilings = Array.from({ length: 10 }, (_, retry) => backoffCeilingMs(retry, defaults));
    expect(ceilings).toEqual([250, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  it('grows on average with every retry until the cap', () => {
    const random = seededRandom(1);
    const meanOf = (retry: number) => {
      let sum = 0;
      for (let i = 0; i < 2000; i++) sum += fullJitterDelayMs(retry, defaults, random);
      return sum / 2000;
    };
    const means = [0, 1, 2, 3, 4, 5, 6].map(meanOf);
    for (let i = 1; i < means.length; i++) expect(means[i]).toBeGreaterThan(means[i - 1]! * 1.5);
    // Full jitter: the mean is half the ceiling.
    expect(means[0]).toBeGreaterThan(100);
    expect(means[0]).toBeLessThan(150);
  });
});

describe('createBackoff', () => {
  it('moves through the schedule with every next()', () => {
    const backoff = createBackoff(defaults, () => 0.999999999);
    expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([249, 499, 999]);
    expect(backoff.retryIndex).toBe(3);
  });

  it('starts over after a connection that stayed open for stableAfterMs', () => {
    const backoff = createBackoff(defaults, () => 0.999999999);
    backoff.next();
    backoff.next();
    backoff.opened(10_000);
    backoff.closed(10_000 + defaults.stableAfterMs);
    expect(backoff.next()).toBe(249);
  });

  it('keeps growing when connections open and drop at once (a flapping server)', () => {
    const backoff = createBackoff(defaults, () => 0.999999999);
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      delays.push(backoff.next());
      backoff.opened(i * 100);
      backoff.closed(i * 100 + defaults.stableAfterMs - 1);
    }
    expect(delays).toEqual([249, 499, 999, 1999]);
  });

  it('starts over on reset()', () => {
    const backoff = createBackoff(defaults, () => 0.5);
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.retryIndex).toBe(0);
    expect(backoff.next()).toBe(125);
  });
});

describe('reconnect spread of 1,000 clients', () => {
  const clients = 1000;

  it('spreads the first retries after a server restart instead of one burst', () => {
    const random = seededRandom(42);
    const firstRetries = Array.from({ length: clients }, () => createBackoff(defaults, random).next());
    expect(Math.min(...firstRetries)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...firstRetries)).toBeLessThan(defaults.initialDelayMs);
    // Uniform over 250 ms: about 40% per 100 ms bucket, never everyone at once.
    expect(largestBucketShare(firstRetries)).toBeLessThan(0.5);
  });

  it('spreads the reconnects that succeed when the server comes back after 5 s', () => {
    const random = seededRandom(7);
    const downForMs = 5000;
    const connectedAt: number[] = [];
    for (let client = 0; client < clients; client++) {
      const backoff = createBackoff(defaults, random);
      let t = 0;
      // Bounded: the cap reaches 30 s after 7 retries, so 20 attempts pass any restart below 5 minutes.
      for (let attempt = 0; attempt < 20 && t < downForMs; attempt++) t += backoff.next();
      connectedAt.push(t);
    }
    expect(Math.min(...connectedAt)).toBeGreaterThanOrEqual(downForMs);
    expect(largestBucketShare(connectedAt)).toBeLessThan(0.05);
    // Half of the clients are back within 4 s of the restart, and all within the 30 s cap.
    const sorted = [...connectedAt].sort((a, b) => a - b);
    expect(sorted[clients / 2]! - downForMs).toBeLessThan(4000);
    expect(sorted[clients - 1]! - downForMs).toBeLessThanOrEqual(defaults.maxDelayMs);
  });
});
