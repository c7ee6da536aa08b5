/**
 * History options every broker shares, declared once so both brokers keep the same defaults and limits.
 * Each broker's own options extend `HistoryOptions`; the defaults live in `historyDefaults` and nowhere else.
 */
export interface HistoryOptions {
  /**
   * Stored events kept per channel; older ones are evicted. 0 stores nothing: every event is delivered
   * live only, has no id, and idempotency keys are ignored.
   * @default 1000
   */
  historySize?: number;
  /**
   * Stored events older than this are evicted, in ms. Mandatory (as Centrifugo's `history_ttl`) so that
   * every channel's state goes away: once a channel has no subscribers and its newest event is older than
   * this, the broker forgets the channel (memory) or its keys expire (Redis). Idempotency keys are
   * remembered as long as their event is in history, so this is also the deduplication window.
   * @default 86400000 (24 h)
   */
  historyMaxAgeMs?: number;
}

export const historyDefaults = {
  historySize: 1000,
  historyMaxAgeMs: 24 * 60 * 60 * 1000,
} satisfies Required<HistoryOptions>;

/** Merges the defaults and rejects values a broker cannot keep; `owner` names the function in messages. */
export function resolveHistoryOptions(options: HistoryOptions, owner: string): Required<HistoryOptions> {
  const historySize = options.historySize ?? historyDefaults.historySize;
  const historyMaxAgeMs = options.historyMaxAgeMs ?? historyDefaults.historyMaxAgeMs;
  if (!Number.isInteger(historySize) || historySize < 0) {
    throw new TypeError(`${owner}: historySize must be a non-negative integer, got ${historySize}`);
  }
  if (!Number.isInteger(historyMaxAgeMs) || historyMaxAgeMs <= 0) {
    throw new TypeError(
      `${owner}: historyMaxAgeMs must be a positive integer (history always expires), got ${historyMaxAgeMs}`,
    );
  }
  return { historySize, historyMaxAgeMs };
}
