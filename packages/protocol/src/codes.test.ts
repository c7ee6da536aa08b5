import { describe, expect, it } from 'vitest';
import {
  CloseCode,
  CloseReason,
  isRefusalClose,
  isRetryableClose,
  isRetryableUpgradeStatus,
  isTerminalClose,
} from './codes.ts';

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

  it('counts only policy and size closes as refusals of what the client sent', () => {
    expect(isRefusalClose(CloseCode.POLICY_VIOLATION)).toBe(true);
    expect(isRefusalClose(CloseCode.MESSAGE_TOO_BIG)).toBe(true);
    for (const code of [1000, 1001, 1006, 1011, 1013, 4000, 4500]) expect(isRefusalClose(code)).toBe(false);
  });

  it('keeps every reason within the 123-byte close frame limit', () => {
    for (const reason of Object.values(CloseReason))
      expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(123);
  });
});

describe('upgrade statuses', () => {
  it('retries 5xx, 408 and 429, and stops on any other 4xx', () => {
    for (const status of [500, 502, 503, 504, 408, 429, 200, 302])
      expect(isRetryableUpgradeStatus(status)).toBe(true);
    for (const status of [400, 401, 403, 404, 405, 426]) expect(isRetryableUpgradeStatus(status)).toBe(false);
  });
});
