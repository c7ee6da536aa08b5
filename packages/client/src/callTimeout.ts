import { ErrorCode, SwitchboardError } from '@switchboard/protocol';
import type { TRPCLink } from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';
import { observable } from '@trpc/server/observable';
import { asTRPCClientError } from './errors.ts';

/** What a call may put in tRPC's `context` to set its own timeout: `query(input, { context: { timeoutMs } })`. */
export interface CallTimeoutContext {
  /** This call's timeout, in ms (`Infinity`: none); overrides the client's `callTimeoutMs`. */
  timeoutMs?: number;
}

/**
 * A tRPC link that settles every query and mutation: one that has not settled `timeoutMs` after it was
 * made rejects with `TIMEOUT` and is dropped from tRPC's queue, so a call made while no connection can be
 * made does not pend forever (tRPC's own client keeps it queued until a socket opens). Subscriptions pass
 * untouched: they wait for the connection and resume.
 *
 * `describeConnection` says in the message why nothing came back (e.g. "connecting, 4 failed attempts").
 */
export function callTimeoutLink(options: {
  defaultTimeoutMs: number;
  describeConnection: () => string;
}): TRPCLink<AnyTRPCRouter> {
  return () =>
    ({ op, next }) =>
      observable((observer) => {
        const subscription = next(op).subscribe(observer);
        if (op.type === 'subscription') return subscription;
        const timeoutMs = (op.context as CallTimeoutContext).timeoutMs ?? options.defaultTimeoutMs;
        // setTimeout would fire an infinite delay at once.
        if (!Number.isFinite(timeoutMs)) return subscription;
        const timer = setTimeout(() => {
          // Erroring first: the teardown below then drops the call from tRPC's queue, and the completion
          // tRPC reports while dropping it is ignored (it would reject the call with "aborted").
          const error = new SwitchboardError(
            ErrorCode.TIMEOUT,
            `${op.path} did not settle within ${timeoutMs} ms (${options.describeConnection()})`,
          );
          observer.error(asTRPCClientError(error));
        }, timeoutMs);
        return () => {
          clearTimeout(timer);
          subscription.unsubscribe();
        };
      });
}
