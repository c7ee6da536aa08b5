/**
 * Calls an app callback so that one throwing listener cannot stop the others or corrupt the caller's
 * state. The error is rethrown on a fresh stack (as EventTarget does), so it still reaches the
 * browser console or Node's `uncaughtException`.
 */
export function callSafely<TArgs extends unknown[]>(
  callback: ((...args: TArgs) => void) | undefined,
  ...args: TArgs
) {
  if (!callback) return;
  try {
    callback(...args);
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}
