import { ErrorCode, isSwitchboardError, SwitchboardError } from '@switchboard/protocol';

/** The client sent something the document cannot take: resending it will not help. */
export function badRequest(message: string): SwitchboardError {
  return new SwitchboardError(ErrorCode.BAD_REQUEST, message);
}

/** A version the client cannot have: the document never reached it (or expired and started over). */
export function versionAhead(version: number, head: number): SwitchboardError {
  return badRequest(`version ${version} is ahead of the document (at ${head})`);
}

/**
 * A version older than the retained op log (`retainOps`): nothing can be transformed or caught up from it.
 * BAD_REQUEST, so clients do not resend; the message names the recovery (open the document again).
 */
export function versionTooOld(version: number): SwitchboardError {
  return badRequest(`version ${version} is no longer in the op log: reopen the document`);
}

/**
 * Store failures (Redis down, a timeout) become BROKER_UNAVAILABLE: retryable, and the client keeps its op to
 * resend with the same id. Switchboard errors pass through unchanged.
 */
export function toStoreError(error: unknown): SwitchboardError {
  if (isSwitchboardError(error)) return error;
  return new SwitchboardError(ErrorCode.BROKER_UNAVAILABLE, 'document store unavailable', { cause: error });
}

/** `promise`, with its rejection passed through `toStoreError`. Wraps store calls only, so a bug elsewhere is
 * not reported as an unavailable store. */
export function fromStore<T>(promise: Promise<T>): Promise<T> {
  return promise.catch((error: unknown) => {
    throw toStoreError(error);
  });
}
