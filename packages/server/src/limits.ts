/**
 * A token bucket: `burst` tokens, refilled at `perSecond`. Refill is computed lazily from the clock on
 * each take, so an idle connection costs no timer.
 */
export interface TokenBucket {
  /** Takes one token; false when the bucket is empty (the caller is over its rate). */
  take(now?: number): boolean;
}

export function createTokenBucket(perSecond: number, burst: number): TokenBucket {
  let tokens = burst;
  let last = Date.now();
  return {
    take(now = Date.now()) {
      tokens = Math.min(burst, tokens + ((now - last) / 1000) * perSecond);
      last = now;
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
  };
}
