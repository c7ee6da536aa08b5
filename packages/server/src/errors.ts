import {
  CloseCode,
  CloseReason,
  ErrorCode,
  isSwitchboardError,
  SwitchboardError,
  trpcCodeOf,
} from '@switchboard/protocol';
import { TRPCError } from '@trpc/server';
import type { WebSocket } from 'ws';

/** Normalises anything thrown into a SwitchboardError (unknown errors become INTERNAL). */
export function toSwitchboardError(cause: unknown): SwitchboardError {
  if (isSwitchboardError(cause)) return cause;
  return new SwitchboardError(ErrorCode.INTERNAL, 'internal error', { cause });
}

/** The TRPCError a domain error is reported as, so `@trpc/client` sees a standard error code. */
export function toTRPCError(cause: unknown): TRPCError {
  // tRPC wraps whatever a resolver throws in an INTERNAL_SERVER_ERROR; unwrap our own errors.
  if (
    cause instanceof TRPCError &&
    !(cause.code === 'INTERNAL_SERVER_ERROR' && isSwitchboardError(cause.cause))
  ) {
    return cause;
  }
  const error = toSwitchboardError(cause instanceof TRPCError ? cause.cause : cause);
  return new TRPCError({ code: trpcCodeOf[error.code], message: error.message, cause: error });
}

/** Shorthand for the domain errors procedures throw. */
export function badRequest(code: ErrorCode, message: string): SwitchboardError {
  return new SwitchboardError(code, message);
}

/** Errors that end a connection, created with their close code so closing happens in one place. */
export const connectionErrors = {
  malformed: (detail?: string) =>
    new SwitchboardError(ErrorCode.BAD_REQUEST, detail ?? CloseReason.MALFORMED_FRAME, {
      closeCode: CloseCode.POLICY_VIOLATION,
    }),
  schema: () =>
    new SwitchboardError(ErrorCode.BAD_REQUEST, CloseReason.SCHEMA_VIOLATION, {
      closeCode: CloseCode.POLICY_VIOLATION,
    }),
  binary: () =>
    new SwitchboardError(ErrorCode.BAD_REQUEST, CloseReason.BINARY_FRAME, {
      closeCode: CloseCode.POLICY_VIOLATION,
    }),
  rateLimited: () =>
    new SwitchboardError(ErrorCode.RATE_LIMITED, CloseReason.RATE_LIMITED, {
      closeCode: CloseCode.POLICY_VIOLATION,
    }),
  tooManySubscriptions: () =>
    new SwitchboardError(ErrorCode.RATE_LIMITED, CloseReason.TOO_MANY_SUBSCRIPTIONS, {
      closeCode: CloseCode.POLICY_VIOLATION,
    }),
  slowConsumer: () =>
    new SwitchboardError(ErrorCode.RATE_LIMITED, CloseReason.SLOW_CONSUMER, {
      closeCode: CloseCode.TRY_AGAIN_LATER,
    }),
  tokenExpired: () =>
    new SwitchboardError(ErrorCode.UNAUTHORIZED, CloseReason.TOKEN_EXPIRED, {
      closeCode: CloseCode.TOKEN_EXPIRED,
    }),
} as const;

/**
 * Closes a socket with the error's close code and its message as the reason (truncated to the
 * 123-byte limit of a close frame, which `ws` enforces by throwing).
 */
export function closeWithError(socket: WebSocket, error: SwitchboardError): void {
  const code = error.closeCode ?? CloseCode.INTERNAL_ERROR;
  if (socket.readyState === socket.CLOSING || socket.readyState === socket.CLOSED) return;
  socket.close(code, truncateReason(error.message));
}

function truncateReason(reason: string): string {
  const bytes = Buffer.from(reason);
  return bytes.length <= 123
    ? reason
    : `${bytes
        .subarray(0, 120)
        .toString('utf8')
        .replace(/\uFFFD$/, '')}...`;
}
