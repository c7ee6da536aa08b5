import { ErrorCode, SwitchboardError } from '@switchboard/protocol';

/**
 * The error of a publish whose idempotency key was already used (by the same author, in the same channel)
 * for a different request. Refused rather than answered with the first id: acknowledging it would tell
 * the caller its new event was stored when it was silently dropped.
 */
export function idempotencyConflict(channel: string): SwitchboardError {
  return new SwitchboardError(
    ErrorCode.IDEMPOTENCY_CONFLICT,
    `${channel}: idempotency key already used for a different event`,
  );
}
