/**
 * Full-jitter exponential backoff, as `@switchboard/client` reconnects (DESIGN.md: 250 ms initial, 30 s
 * cap; AWS Architecture Blog, "Exponential Backoff And Jitter"): a uniform delay in [0, min(cap, base·2^n)).
 */
export const backoffDefaults = { initialDelayMs: 250, maxDelayMs: 30_000 };

export function fullJitterDelayMs(attempt: number, random = Math.random()): number {
  return random * Math.min(backoffDefaults.maxDelayMs, backoffDefaults.initialDelayMs * 2 ** attempt);
}
