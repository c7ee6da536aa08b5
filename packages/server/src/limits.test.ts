import { describe, expect, it } from 'vitest';
import { createTokenBucket } from './limits.ts';

describe('createTokenBucket', () => {
  it('allows a burst, then refills at the configured rate', () => {
    const bucket = createTokenBucket(10, 3);
    const t0 = Date.now();
    expect([bucket.take(t0), bucket.take(t0), bucket.take(t0), bucket.take(t0)]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    expect(bucket.take(t0 + 50)).toBe(false);
    expect(bucket.take(t0 + 100)).toBe(true);
    expect(bucket.take(t0 + 10_000)).toBe(true);
  });
});
