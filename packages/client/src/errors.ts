import {
  ErrorCode,
  isRetryableTrpcCode,
  isSwitchboardError,
  SwitchboardError,
  trpcCodeOf,
} from '@switchboard/protocol';
import { TRPCClientError } from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';

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
  // Made by this client (timeout, lost connection, refused for good): see `asTRPCClientError`.
  if (error instanceof TRPCClientError && isSwitchboardError(error.cause)) return error.cause;
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

/**
 * Wraps an error this client decided (a timeout, a lost connection, a refusal that stopped the client) as
 * the `TRPCClientError` tRPC's links and `client.trpc` callers expect, shaped like a server's answer:
 * `error.data.code` is the tRPC code and `error.data.switchboardCode` the domain code, and `cause` is the
 * `SwitchboardError` itself, which `toSwitchboardError` returns as is.
 */
export function asTRPCClientError(error: SwitchboardError): TRPCClientError<AnyTRPCRouter> {
  const trpcCode = trpcCodeOf[error.code];
  return new TRPCClientError(error.message, {
    cause: error,
    result: {
      error: {
        code: TRPC_ERROR_CODES_BY_KEY[trpcCode],
        message: error.message,
        data: { code: trpcCode, switchboardCode: error.code },
      },
    },
  });
}

/**
 * True when a call failed on the way, not by the server's answer: the socket closed before the answer
 * arrived (or before the request could be sent). Server answers always carry their error shape.
 */
export function isTransportFailure(error: unknown): boolean {
  return error instanceof TRPCClientError && error.shape === undefined && !isSwitchboardError(error.cause);
}
