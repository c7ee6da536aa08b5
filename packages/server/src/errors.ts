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

/**
 * A readable message for a procedure's input that failed validation (`invalid input at channel: Too
 * small...`), or undefined for any other error. tRPC reports such failures as BAD_REQUEST with the raw
 * issue list as JSON in the message; clients show messages to people.
 */
export function describeInvalidInput(error: TRPCError): string | undefined {
  if (error.code !== 'BAD_REQUEST') return undefined;
  const issues = (error.cause as { issues?: unknown } | undefined)?.issues;
  if (!Array.isArray(issues) || issues.length === 0) return undefined;
  const first = issues[0] as { path?: readonly PropertyKey[]; message?: string };
  const where = first.path?.length ? ` at ${first.path.map(String).join('.')}` : '';
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return `invalid input${where}: ${first.message ?? 'invalid'}${more}`;
}

/** Shorthand for the domain errors procedures throw. */
export function badRequest(code: ErrorCode, message: string): SwitchboardError {
  return new SwitchboardError(code, message);
}

/** An error that ends the connection with `closeCode`. */
function closing(code: ErrorCode, reason: string, closeCode: CloseCode): SwitchboardError {
  return new SwitchboardError(code, reason, { closeCode });
}

/** Errors that end a connection, created with their close code so closing happens in one place. */
export const connectionErrors = {
  malformed: (detail?: string) =>
    closing(ErrorCode.BAD_REQUEST, detail ?? CloseReason.MALFORMED_FRAME, CloseCode.POLICY_VIOLATION),
  schema: () => closing(ErrorCode.BAD_REQUEST, CloseReason.SCHEMA_VIOLATION, CloseCode.POLICY_VIOLATION),
  binary: () => closing(ErrorCode.BAD_REQUEST, CloseReason.BINARY_FRAME, CloseCode.POLICY_VIOLATION),
  internal: () => closing(ErrorCode.INTERNAL, CloseReason.INTERNAL_ERROR, CloseCode.INTERNAL_ERROR),
  messageTooBig: () =>
    closing(ErrorCode.PAYLOAD_TOO_LARGE, CloseReason.MESSAGE_TOO_BIG, CloseCode.MESSAGE_TOO_BIG),
  rateLimited: () => closing(ErrorCode.RATE_LIMITED, CloseReason.RATE_LIMITED, CloseCode.POLICY_VIOLATION),
  tooManySubscriptions: () =>
    closing(ErrorCode.RATE_LIMITED, CloseReason.TOO_MANY_SUBSCRIPTIONS, CloseCode.POLICY_VIOLATION),
  slowConsumer: () => closing(ErrorCode.RATE_LIMITED, CloseReason.SLOW_CONSUMER, CloseCode.TRY_AGAIN_LATER),
  tokenExpired: () => closing(ErrorCode.UNAUTHORIZED, CloseReason.TOKEN_EXPIRED, CloseCode.TOKEN_EXPIRED),
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
