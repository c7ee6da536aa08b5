import { describe, expect, it } from 'vitest';
import { createTokenBucket, MessageRate } from './limits.ts';

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

describe('MessageRate', () => {
  it('admits the burst, refuses over the rate, calls more refusals in a row than the burst flooding, and forgets refusals once admitted again', () => {
    const rate = new MessageRate(10, 2);
    const t0 = Date.now();
    expect([rate.admit(t0), rate.admit(t0), rate.admit(t0), rate.admit(t0)]).toEqual([
      'admitted',
      'admitted',
      'over',
      'over',
    ]);
    expect(rate.admit(t0)).toBe('flooding');
    expect(rate.admit(t0 + 100)).toBe('admitted');
    expect([rate.admit(t0 + 100), rate.admit(t0 + 100), rate.admit(t0 + 100)]).toEqual([
      'over',
      'over',
      'flooding',
    ]);
  });
});
