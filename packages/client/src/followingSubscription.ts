import type { OperationLink, OperationResultEnvelope, TRPCClientError } from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';

type Envelope = OperationResultEnvelope<unknown, TRPCClientError<AnyTRPCRouter>>;

/** The subscriptions a client holds now, so a change of transport can move them. */
export interface FollowingSubscription {
  /** Leaves the current transport and subscribes again on the one `currentLink()` returns now. */
  move(): void;
  /** Ends the subscription, as tRPC's WebSocket client does when it closes (`complete`). */
  end(): void;
}

export interface FollowingObserver {
  next(envelope: Envelope): void;
  error(error: TRPCClientError<AnyTRPCRouter>): void;
  complete(): void;
}

/**
 * Runs a subscription (or a call not sent yet) on whichever transport `currentLink()` names, and moves it when told, resuming where
 * it was: the new request carries the tracked id of the last item received as `lastEventId`, exactly what
 * tRPC's own clients send when they reconnect (`inputWithTrackedEventId` in `@trpc/client`), so the server
 * replays what was missed in between and nothing twice (DESIGN.md, resume). Between the two it reports
 * `connecting`, as a reconnect does, so a channel shows `resuming` until the server says `$live` again.
 *
 * Registered in `live` while it runs, so `move()` and `end()` reach it; removed when it ends.
 */
export function followingSubscription(
  { op: operation, next }: Parameters<OperationLink<AnyTRPCRouter>>[0],
  currentLink: () => OperationLink<AnyTRPCRouter>,
  observer: FollowingObserver,
  live: Set<FollowingSubscription>,
): { unsubscribe(): void } {
  // A query or mutation moves only while it has not been sent (see `Connection`): it starts over as is.
  const resumable = operation.type === 'subscription';
  let lastEventId: string | undefined;
  let inner: { unsubscribe(): void } | undefined;
  let done = false;

  function attach() {
    const op =
      lastEventId === undefined
        ? operation
        : { ...operation, input: withLastEventId(operation.input, lastEventId) };
    let current: { unsubscribe(): void } | undefined;
    const stale = () => current !== undefined && inner !== current;
    current = currentLink()({ op, next }).subscribe({
      next(envelope) {
        if (stale() || done) return;
        const id = (envelope.result as { id?: unknown }).id;
        if (resumable && typeof id === 'string' && id !== '') lastEventId = id;
        observer.next(envelope as Envelope);
      },
      error(error) {
        if (stale() || done) return;
        finish();
        observer.error(error);
      },
      complete() {
        if (stale() || done) return;
        finish();
        observer.complete();
      },
    });
    // A synchronous error or completion already finished it.
    if (done) current.unsubscribe();
    else inner = current;
  }

  function finish() {
    done = true;
    live.delete(handle);
  }

  const handle: FollowingSubscription = {
    move() {
      if (done) return;
      const previous = inner;
      inner = undefined;
      previous?.unsubscribe();
      if (resumable)
        observer.next({ result: { type: 'state', state: 'connecting', error: null } } as unknown as Envelope);
      attach();
    },
    end() {
      if (done) return;
      finish();
      inner?.unsubscribe();
      observer.complete();
    },
  };

  live.add(handle);
  attach();
  return {
    unsubscribe() {
      if (done) return;
      finish();
      inner?.unsubscribe();
    },
  };
}

/** tRPC's rule: the position goes into an object input (or makes one); other inputs are left alone. */
function withLastEventId(input: unknown, lastEventId: string): unknown {
  if (input != null && typeof input !== 'object') return input;
  return { ...(input ?? {}), lastEventId };
}
