import { ErrorCode, type PublishInput, type PublishOutput, SwitchboardError } from '@switchboard/protocol';
import { createBackoff } from './backoff.ts';
import type { ChannelHandleDeps } from './channel.ts';
import { toSwitchboardError } from './errors.ts';

/**
 * Sends a publish and, while `timeoutMs` (counted from the first attempt) allows, sends it again with the
 * same idempotency key when its outcome is unknown or the server could not take it: the connection closed
 * before the answer (`CONNECTION_LOST`), or the broker was unavailable. The server answers a repeat of a
 * stored publish with the original id, so a retry never stores the event twice. Other refusals are final.
 */
export async function publishWithRetries(
  deps: Pick<ChannelHandleDeps, 'procedures' | 'stoppedError' | 'backoff'>,
  input: PublishInput,
  timeoutMs: number,
): Promise<PublishOutput> {
  const deadline = Date.now() + timeoutMs;
  const backoff = createBackoff(deps.backoff);
  let lastFailure: SwitchboardError | undefined;
  const timedOut = () =>
    new SwitchboardError(
      ErrorCode.TIMEOUT,
      `${input.channel}: publish not acknowledged within ${timeoutMs} ms (last failure: ${lastFailure?.message})`,
      { cause: lastFailure },
    );
  for (;;) {
    try {
      return await deps.procedures.channel.publish.mutate(input, {
        context: { timeoutMs: Math.max(1, deadline - Date.now()) },
      });
    } catch (cause) {
      const failure = toSwitchboardError(cause);
      // A retry that timed out: say what went wrong before, and count from the first attempt.
      if (failure.code === ErrorCode.TIMEOUT && lastFailure) throw timedOut();
      if (!RETRIED_PUBLISH_FAILURES.has(failure.code)) throw failure;
      lastFailure = failure;
    }
    const stopped = deps.stoppedError();
    if (stopped) throw stopped;
    const remainingMs = deadline - Date.now();
    if (remainingMs <= 0) throw timedOut();
    // Full jitter: the delay may be 0, a retry at once.
    await new Promise((resolve) => setTimeout(resolve, Math.min(backoff.next(), remainingMs)));
  }
}

/** Failures after which a publish is sent again (see `publishWithRetries`). */
const RETRIED_PUBLISH_FAILURES: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.CONNECTION_LOST,
  ErrorCode.BROKER_UNAVAILABLE,
]);
