/**
 * One connection attempt's deadline (`connectTimeoutMs`): from the attempt's start (token, ticket exchange)
 * until its socket opens. tRPC's client waits for `open` or `error` without a limit, so an upgrade that is
 * accepted and never answered would hold it `connecting` forever (and its `close()` waits for that open);
 * at the deadline, or when the client stops, the attempt is abandoned: what it awaits rejects, and its
 * socket is aborted, which tRPC sees as a failed connection and retries with backoff.
 */
export interface ConnectAttempt {
  /** Resolves with `work`, or rejects when the attempt is abandoned first. */
  within<T>(work: Promise<T> | T): Promise<T>;
  /** Why it was abandoned: "connect timed out after N ms", or what `abandon` was given; else undefined. */
  readonly abandoned: string | undefined;
  /** Abandons it now (the client stopped). */
  abandon(reason: string): void;
  /** The socket opened or closed: the deadline no longer applies. */
  end(): void;
}

export function startConnectAttempt(timeoutMs: number, onAbandon: (reason: string) => void): ConnectAttempt {
  let abandoned: string | undefined;
  let ended = false;
  const rejecters = new Set<(error: Error) => void>();
  const timer = Number.isFinite(timeoutMs)
    ? setTimeout(() => abandon(`connect timed out after ${timeoutMs} ms`), timeoutMs)
    : undefined;

  function abandon(reason: string) {
    if (abandoned !== undefined || ended) return;
    abandoned = reason;
    clearTimeout(timer);
    for (const reject of rejecters) reject(new Error(reason));
    rejecters.clear();
    onAbandon(reason);
  }

  return {
    within(work) {
      if (abandoned !== undefined) {
        // Started before it was handed over: its failure is moot now, and must not surface as unhandled.
        Promise.resolve(work).catch(() => {});
        return Promise.reject(new Error(abandoned));
      }
      return new Promise((resolve, reject) => {
        rejecters.add(reject);
        Promise.resolve(work).then(
          (value) => {
            rejecters.delete(reject);
            resolve(value);
          },
          (error: unknown) => {
            rejecters.delete(reject);
            reject(error);
          },
        );
      });
    },
    get abandoned() {
      return abandoned;
    },
    abandon,
    end() {
      ended = true;
      clearTimeout(timer);
      rejecters.clear();
    },
  };
}
