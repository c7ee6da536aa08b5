import { ErrorCode, isSwitchboardError, SwitchboardError, trpcCodeOf } from '@switchboard/protocol';
import { TRPCClientError } from '@trpc/client';

interface ErrorData {
  /** Set by the Switchboard server for domain errors. */
  switchboardCode?: unknown;
  /** tRPC's error code, e.g. BAD_REQUEST for input that failed the procedure's schema. */
  code?: unknown;
}

function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ErrorCode, value);
}

/**
 * Normalises what a procedure call rejected with into a `SwitchboardError`, so apps switch on one `code`:
 * the server's domain code when it sent one, else the tRPC code when it names a domain code too
 * (BAD_REQUEST, UNAUTHORIZED, FORBIDDEN...), else INTERNAL (including a connection lost mid-request).
 */
export function toSwitchboardError(error: unknown): SwitchboardError {
  if (isSwitchboardError(error)) return error;
  if (error instanceof TRPCClientError) {
    const data = (error.data ?? {}) as ErrorData;
    const code = isErrorCode(data.switchboardCode)
      ? data.switchboardCode
      : isErrorCode(data.code)
        ? data.code
        : ErrorCode.INTERNAL;
    return new SwitchboardError(code, error.message, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new SwitchboardError(ErrorCode.INTERNAL, message, { cause: error });
}

/** tRPC's error code (`NOT_FOUND`, `SERVICE_UNAVAILABLE`...) of what a procedure call rejected with, if any. */
export function trpcErrorCode(error: unknown): string | undefined {
  if (!(error instanceof TRPCClientError)) return undefined;
  const code = (error.data as ErrorData | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * tRPC codes of failures that can pass if the same request is sent again later: the server (or its
 * broker) is unavailable or overloaded, or it failed unexpectedly. Anything else (BAD_REQUEST,
 * UNAUTHORIZED, FORBIDDEN...) needs a different request or other credentials first.
 */
const RETRYABLE_TRPC_CODES: ReadonlySet<string> = new Set([
  'SERVICE_UNAVAILABLE',
  'INTERNAL_SERVER_ERROR',
  'TOO_MANY_REQUESTS',
]);

/** True when sending the same request again later can succeed (see `RETRYABLE_TRPC_CODES`). */
export function isRetryableError(error: SwitchboardError): boolean {
  return RETRYABLE_TRPC_CODES.has(trpcErrorCode(error.cause) ?? trpcCodeOf[error.code]);
}
