/** Rejection reason of a wait cut short by `cancel()`. */
export class RetryCancelledError extends Error {
  override readonly name = 'RetryCancelledError';
}

/**
 * The wait before a reconnect attempt, which can end early: `skip()` (the network came back) resolves it
 * now, `cancel()` (the client closed) rejects it. One wait at a time.
 */
export interface RetryTimer {
  wait(delayMs: number): Promise<void>;
  skip(): void;
  cancel(): void;
}

export function createRetryTimer(): RetryTimer {
  let pending:
    | { timer: ReturnType<typeof setTimeout>; resolve(): void; reject(error: Error): void }
    | undefined;

  function settle(how: 'resolve' | 'reject') {
    const current = pending;
    if (!current) return;
    pending = undefined;
    clearTimeout(current.timer);
    if (how === 'resolve') current.resolve();
    else current.reject(new RetryCancelledError('reconnect cancelled: the client is closed'));
  }

  return {
    wait(delayMs) {
      settle('reject');
      return new Promise<void>((resolve, reject) => {
        pending = { timer: setTimeout(() => settle('resolve'), delayMs), resolve, reject };
      });
    },
    skip: () => settle('resolve'),
    cancel: () => settle('reject'),
  };
}
