import {
  CloseCode,
  ErrorCode,
  isRefusalClose,
  isRetryableUpgradeStatus,
  isTerminalClose,
  UpgradeStatus,
} from '@switchboard/protocol';
import type { CloseInfo, ConnectionFailure } from './connectionState.ts';

/**
 * Why the server refused an upgrade with `status` when retrying cannot fix it, or `undefined` when it may
 * (5xx at capacity, 429 too many connections of this user...: retried with backoff). `detail` is the
 * server's reason from the response body, when it sent one.
 */
export function upgradeRefusal(status: number, detail: string | undefined): ConnectionFailure | undefined {
  if (isRetryableUpgradeStatus(status)) return undefined;
  const code =
    status === UpgradeStatus.UNAUTHORIZED
      ? ErrorCode.UNAUTHORIZED
      : status === UpgradeStatus.FORBIDDEN
        ? ErrorCode.FORBIDDEN
        : status === UpgradeStatus.NOT_FOUND
          ? ErrorCode.NOT_FOUND
          : ErrorCode.BAD_REQUEST;
  return { code, message: describeUpgradeRefusal(status, detail) };
}

/** The `lastClose.reason` and error message of a refused upgrade: "upgrade refused with HTTP 401: why". */
export function describeUpgradeRefusal(status: number, detail: string | undefined): string {
  return `upgrade refused with HTTP ${status}${detail ? `: ${detail}` : ''}`;
}

/** Why a terminal close code (4500-4999) stopped the client, or `undefined` for codes that are retried. */
export function closeRefusal(close: CloseInfo): ConnectionFailure | undefined {
  if (!isTerminalClose(close.code)) return undefined;
  const code =
    close.code === CloseCode.UNAUTHORIZED || close.code === CloseCode.TOKEN_EXPIRED
      ? ErrorCode.UNAUTHORIZED
      : close.code === CloseCode.FORBIDDEN
        ? ErrorCode.FORBIDDEN
        : ErrorCode.BAD_REQUEST;
  return {
    code,
    message: `the server ended the connection: ${close.reason || 'no reason given'} (${close.code})`,
  };
}

/**
 * Notices a deterministic refusal: the same refusal close (1008/1009 with the same reason) `limit` times in
 * a row, with nothing accepted in between. tRPC's client re-sends every subscription after a reconnect, so a
 * frame the server refuses (a batch over its limit, say) is refused again on every connection: without
 * this, the client reconnects in a loop (16 closes in 4 s; issue 12, item 2).
 */
export interface RepeatedRefusals {
  /** A connection that was open closed; returns why to stop when this close makes `limit` in a row. */
  closed(close: CloseInfo): ConnectionFailure | undefined;
  /** The server answered a request successfully: the next refusal starts a new count. */
  accepted(): void;
  reset(): void;
}

export function createRepeatedRefusals(limit: number): RepeatedRefusals {
  let last: CloseInfo | undefined;
  let count = 0;
  return {
    closed(close) {
      if (!isRefusalClose(close.code)) {
        last = undefined;
        count = 0;
        return undefined;
      }
      const same = last !== undefined && last.code === close.code && last.reason === close.reason;
      count = same ? count + 1 : 1;
      last = close;
      if (count < limit) return undefined;
      return {
        code: ErrorCode.BAD_REQUEST,
        message: `stopped reconnecting: the server refused what this client sends ${count} times in a row (${describeClose(close)})`,
      };
    },
    accepted() {
      last = undefined;
      count = 0;
    },
    reset() {
      last = undefined;
      count = 0;
    },
  };
}

function describeClose(close: CloseInfo): string {
  return close.reason ? `close ${close.code} "${close.reason}"` : `close ${close.code}`;
}
