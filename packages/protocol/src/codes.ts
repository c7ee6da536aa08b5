/**
 * Close codes, error codes and the reasons sent on the wire: defined once, used by server and client.
 *
 * Numbering: 1000-1015 are RFC 6455 codes. Application codes are split in two bands so a client can
 * decide without a lookup table whether reconnecting can help:
 * - 4000-4499 retryable (reconnect with backoff),
 * - 4500-4999 terminal (stop and surface the state: credentials or permissions must change first).
 */
export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
  TRY_AGAIN_LATER: 1013,
  /** Retryable: the server asked this connection to move (e.g. rebalancing). */
  RECONNECT: 4000,
  /** Terminal: the token expired on a live connection and was not refreshed in-band. */
  TOKEN_EXPIRED: 4501,
  /** Terminal: the token was revoked or is invalid. */
  UNAUTHORIZED: 4500,
  /** Terminal: authenticated, but not allowed. */
  FORBIDDEN: 4503,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Reasons are short, human and under 123 bytes (the RFC 6455 limit for a close frame's reason). */
export const CloseReason = {
  NORMAL: 'normal closure',
  GOING_AWAY: 'server shutting down',
  MALFORMED_FRAME: 'malformed frame',
  SCHEMA_VIOLATION: 'frame does not match the protocol',
  BINARY_FRAME: 'binary frames are not supported',
  RATE_LIMITED: 'rate limit exceeded',
  MESSAGE_TOO_BIG: 'message too big',
  TOO_MANY_SUBSCRIPTIONS: 'too many subscriptions on one connection',
  INTERNAL_ERROR: 'internal error',
  SLOW_CONSUMER: 'slow consumer: resume from history',
  HEARTBEAT_TIMEOUT: 'heartbeat timeout',
  TOKEN_EXPIRED: 'token expired',
  UNAUTHORIZED: 'unauthorized',
  FORBIDDEN: 'forbidden',
} as const;
export type CloseReason = (typeof CloseReason)[keyof typeof CloseReason];

const TERMINAL_BAND = { from: 4500, to: 4999 } as const;

/** True when a client should stop reconnecting after this close code. */
export function isTerminalClose(code: number): boolean {
  return code >= TERMINAL_BAND.from && code <= TERMINAL_BAND.to;
}

/** True when reconnecting (with backoff) can succeed. 1000 is a deliberate close and is not retried. */
export function isRetryableClose(code: number): boolean {
  if (code === CloseCode.NORMAL || isTerminalClose(code)) return false;
  return true;
}

/** HTTP status answered before the WebSocket upgrade, when it is refused. */
export const UpgradeStatus = {
  /** Malformed request: request target, percent-encoding or cookie that cannot be decoded. */
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  /** Not the WebSocket path. */
  NOT_FOUND: 404,
  /** This user already holds `maxConnectionsPerUser` connections: retry (with backoff) after one closes. */
  TOO_MANY_CONNECTIONS: 429,
  AT_CAPACITY: 503,
} as const;
export type UpgradeStatus = (typeof UpgradeStatus)[keyof typeof UpgradeStatus];

/**
 * True when an upgrade refused with this HTTP status may succeed if tried again later: 5xx (at capacity,
 * restarting), 408, 429 (too many connections of this user), and anything that is not a 4xx (a proxy or
 * captive portal in the way). Any other 4xx (401, 403, 404 wrong path...) is the server's answer to the
 * request itself, so the same request is refused again: the client stops instead of looping.
 */
export function isRetryableUpgradeStatus(status: number): boolean {
  return status < 400 || status >= 500 || status === 408 || status === UpgradeStatus.TOO_MANY_CONNECTIONS;
}

/**
 * Close codes that refuse what the client sent (a policy violation, a frame too big): when the same one
 * closes a connection twice in a row with nothing accepted in between, sending the same again will not
 * help, and the client stops instead of reconnecting in a loop.
 */
export function isRefusalClose(code: number): boolean {
  return code === CloseCode.POLICY_VIOLATION || code === CloseCode.MESSAGE_TOO_BIG;
}

/**
 * Domain error codes. Each maps to one tRPC error code (what `@trpc/client` sees) and, where the
 * error ends the connection, to one close code.
 */
export const ErrorCode = {
  BAD_REQUEST: 'BAD_REQUEST',
  UNKNOWN_CHANNEL: 'UNKNOWN_CHANNEL',
  UNKNOWN_EVENT_TYPE: 'UNKNOWN_EVENT_TYPE',
  INVALID_PAYLOAD: 'INVALID_PAYLOAD',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  TOO_MANY_CHANNELS: 'TOO_MANY_CHANNELS',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  RATE_LIMITED: 'RATE_LIMITED',
  /** The same idempotency key (of the same user) was used for a different request. */
  IDEMPOTENCY_CONFLICT: 'IDEMPOTENCY_CONFLICT',
  BROKER_UNAVAILABLE: 'BROKER_UNAVAILABLE',
  INTERNAL: 'INTERNAL',
  /** Client side: a call did not settle within its timeout (no connection could be made, or no answer). */
  TIMEOUT: 'TIMEOUT',
  /** Client side: the connection closed before the call's answer arrived; its outcome is unknown. */
  CONNECTION_LOST: 'CONNECTION_LOST',
  /** Client side: there is no WebSocket endpoint at the client's URL (HTTP 404 on the upgrade). */
  NOT_FOUND: 'NOT_FOUND',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The tRPC error code each domain error is reported as. */
export const trpcCodeOf = {
  BAD_REQUEST: 'BAD_REQUEST',
  UNKNOWN_CHANNEL: 'BAD_REQUEST',
  UNKNOWN_EVENT_TYPE: 'BAD_REQUEST',
  INVALID_PAYLOAD: 'BAD_REQUEST',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  TOO_MANY_CHANNELS: 'TOO_MANY_REQUESTS',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  RATE_LIMITED: 'TOO_MANY_REQUESTS',
  IDEMPOTENCY_CONFLICT: 'CONFLICT',
  BROKER_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  INTERNAL: 'INTERNAL_SERVER_ERROR',
  TIMEOUT: 'TIMEOUT',
  CONNECTION_LOST: 'CLIENT_CLOSED_REQUEST',
  NOT_FOUND: 'NOT_FOUND',
} as const satisfies Record<ErrorCode, string>;

/**
 * The domain code of an error that is not one of ours (tRPC's own input parsing, an unknown procedure, a
 * validator that threw), read from its tRPC code so `switchboardCode` never says INTERNAL for a bad request.
 */
export function errorCodeOfTrpc(trpcCode: string): ErrorCode {
  switch (trpcCode) {
    case 'BAD_REQUEST':
    case 'PARSE_ERROR':
    case 'METHOD_NOT_SUPPORTED':
    case 'UNPROCESSABLE_CONTENT':
      return ErrorCode.BAD_REQUEST;
    case 'NOT_FOUND':
      return ErrorCode.NOT_FOUND;
    case 'UNAUTHORIZED':
      return ErrorCode.UNAUTHORIZED;
    case 'FORBIDDEN':
      return ErrorCode.FORBIDDEN;
    case 'PAYLOAD_TOO_LARGE':
      return ErrorCode.PAYLOAD_TOO_LARGE;
    case 'TOO_MANY_REQUESTS':
      return ErrorCode.RATE_LIMITED;
    case 'CONFLICT':
      return ErrorCode.IDEMPOTENCY_CONFLICT;
    case 'SERVICE_UNAVAILABLE':
      return ErrorCode.BROKER_UNAVAILABLE;
    case 'TIMEOUT':
      return ErrorCode.TIMEOUT;
    default:
      return ErrorCode.INTERNAL;
  }
}

/**
 * tRPC codes of failures that can pass if the same request is sent again later: the server (or its broker)
 * is unavailable or overloaded, or it failed unexpectedly. Anything else (BAD_REQUEST, UNAUTHORIZED,
 * FORBIDDEN...) needs a different request or other credentials first.
 */
const RETRYABLE_TRPC_CODES: ReadonlySet<string> = new Set([
  'SERVICE_UNAVAILABLE',
  'INTERNAL_SERVER_ERROR',
  'TOO_MANY_REQUESTS',
]);

export function isRetryableTrpcCode(code: string): boolean {
  return RETRYABLE_TRPC_CODES.has(code);
}
