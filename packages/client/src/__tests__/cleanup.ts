/**
 * Per-test cleanup: register what a test opens with `track`, and the `afterEach` installed by
 * `useCleanup()` releases it in reverse order, even when the test fails.
 */
import { afterEach } from 'vitest';

export function useCleanup() {
  const stack: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of stack.splice(0).reverse()) await cleanup();
  });
  return function track<T>(value: T, cleanup: (value: T) => unknown): T {
    stack.push(() => cleanup(value));
    return value;
  };
}
