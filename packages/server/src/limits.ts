/**
 * A token bucket: `burst` tokens, refilled at `perSecond`. Refill is computed lazily from the clock on
 * each take, so an idle connection costs no timer.
 */
export interface TokenBucket {
  /** Takes one token; false when the bucket is empty (the caller is over its rate). */
  take(now?: number): boolean;
  /** Whether `count` tokens could be taken now, taking none. */
  has(count: number, now?: number): boolean;
}

export function createTokenBucket(perSecond: number, burst: number): TokenBucket {
  return new LazyTokenBucket(perSecond, burst);
}

/** A class so its method is shared: every connection holds one bucket. */
class LazyTokenBucket implements TokenBucket {
  private tokens: number;
  private last = Date.now();

  constructor(
    private readonly perSecond: number,
    protected readonly burst: number,
  ) {
    this.tokens = burst;
  }

  take(now = Date.now()): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  has(count: number, now = Date.now()): boolean {
    this.refill(now);
    return this.tokens >= count;
  }

  private refill(now: number): void {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
  }
}

/**
 * What one inbound message gets from a connection's rate limit: `admitted`; `over` the rate (refused, if
 * it is a kind of message that may be refused); or `flooding`: more refusals in a row than the burst, a
 * client that keeps sending while refused rather than one retrying, which is closed (1008).
 */
export type Admission = 'admitted' | 'over' | 'flooding';

/**
 * The rate limit of one connection's inbound messages (messages, not frames: a batch of 50 takes 50).
 * A token bucket that also counts refusals in a row; one object per connection.
 */
export class MessageRate extends LazyTokenBucket {
  private refusedInARow = 0;

  /** Counts one message at `now` (ms since the epoch). */
  admit(now: number): Admission {
    if (this.take(now)) {
      this.refusedInARow = 0;
      return 'admitted';
    }
    return ++this.refusedInARow > this.burst ? 'flooding' : 'over';
  }
}
