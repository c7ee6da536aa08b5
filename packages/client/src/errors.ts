import {
  ErrorCode,
  isRetryableTrpcCode,
  isSwitchboardError,
  SwitchboardError,
  trpcCodeOf,
} from '@switchboard/protocol';
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

/** True when sending the same request again later can succeed (see `isRetryableTrpcCode` in protocol). */
export function isRetryableError(error: SwitchboardError): boolean {
  return isRetryableTrpcCode(trpcErrorCode(error.cause) ?? trpcCodeOf[error.code]);
}
