import { describe, expect, it } from 'vitest';
import { startConnectAttempt } from './connectAttempt.ts';

describe('startConnectAttempt', () => {
  it('rejects what is handed to an abandoned attempt, and leaves no unhandled rejection behind', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const attempt = startConnectAttempt(Number.POSITIVE_INFINITY, () => {});
      attempt.abandon('the client stopped');
      // As the connection does it: the work (a ticket exchange) starts before it is handed over.
      const work = Promise.reject(new TypeError('fetch failed'));
      await expect(attempt.within(work)).rejects.toThrow('the client stopped');
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('abandons at its deadline: what it awaits rejects with the reason', async () => {
    const reasons: string[] = [];
    const attempt = startConnectAttempt(30, (reason) => reasons.push(reason));
    await expect(attempt.within(new Promise(() => {}))).rejects.toThrow('connect timed out after 30 ms');
    expect(reasons).toEqual(['connect timed out after 30 ms']);
    expect(attempt.abandoned).toBe('connect timed out after 30 ms');
  });
});
