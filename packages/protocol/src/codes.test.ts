import { describe, expect, it } from 'vitest';
import { CloseCode, CloseReason, isRetryableClose, isTerminalClose } from './codes.ts';

describe('close codes', () => {
  it('splits application codes into a retryable and a terminal band', () => {
    expect(isTerminalClose(CloseCode.TOKEN_EXPIRED)).toBe(true);
    expect(isTerminalClose(CloseCode.FORBIDDEN)).toBe(true);
    expect(isTerminalClose(CloseCode.UNAUTHORIZED)).toBe(true);
    expect(isRetryableClose(CloseCode.RECONNECT)).toBe(true);
    expect(isRetryableClose(4499)).toBe(true);
    expect(isRetryableClose(4500)).toBe(false);
  });

  it('retries every server-side close except a normal one', () => {
    for (const code of [1001, 1006, 1008, 1009, 1011, 1013]) expect(isRetryableClose(code)).toBe(true);
    expect(isRetryableClose(CloseCode.NORMAL)).toBe(false);
  });

  it('keeps every reason within the 123-byte close frame limit', () => {
    for (const reason of Object.values(CloseReason))
      expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(123);
  });
});
