import type { TRPCLink } from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';
import { observable } from '@trpc/server/observable';
import { callSafely } from './callSafely.ts';

/**
 * Keeps a client's calls in the order the app made them, on the wire as well.
 *
 * A channel subscription starts one microtask after `subscribe()`, so that every listener added in the same
 * tick counts toward its `replay`. Left alone, a `publish()` made right after `subscribe()` reaches tRPC's
 * request queue first: both leave in one batch, publish first, and the subscriber misses the event (the
 * README's quick start received nothing; issue 12, item 6). So every call waits its turn here: tRPC
 * operations (through `link`) and deferred starts (through `enqueue`) run in one FIFO, flushed on the next
 * microtask. A call made while the FIFO runs (the subscription a deferred start makes) goes out at once: it
 * belongs to the turn being run.
 */
export interface CallOrder {
  /** Runs `call` after every call enqueued before it; returns a function that cancels it if not yet run. */
  enqueue(call: () => void): () => void;
  /** The tRPC link that puts every operation in the same FIFO; place it before the transport's link. */
  readonly link: TRPCLink<AnyTRPCRouter>;
}

export function createCallOrder(): CallOrder {
  let queue: (() => void)[] = [];
  let flushing = false;
  let scheduled = false;

  function flush() {
    scheduled = false;
    flushing = true;
    // Calls enqueued while flushing run at once (see above), so `queue` only grows from outside.
    const calls = queue;
    queue = [];
    // One call that throws must not drop the calls after it.
    for (const call of calls) callSafely(call);
    flushing = false;
  }

  function enqueue(call: () => void): () => void {
    if (flushing) {
      call();
      return () => {};
    }
    let cancelled = false;
    queue.push(() => {
      if (!cancelled) call();
    });
    if (!scheduled) {
      scheduled = true;
      queueMicrotask(flush);
    }
    return () => {
      cancelled = true;
    };
  }

  const link: TRPCLink<AnyTRPCRouter> =
    () =>
    ({ op, next }) =>
      observable((observer) => {
        let subscription: { unsubscribe(): void } | undefined;
        let ended = false;
        const cancel = enqueue(() => {
          subscription = next(op).subscribe(observer);
          // Unsubscribed while it ran (a synchronous error or completion): release it now.
          if (ended) subscription.unsubscribe();
        });
        return () => {
          ended = true;
          cancel();
          subscription?.unsubscribe();
        };
      });

  return { enqueue, link };
}
