import type { OperationLink, OperationResultEnvelope, TRPCClientError } from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';

type Envelope = OperationResultEnvelope<unknown, TRPCClientError<AnyTRPCRouter>>;

/** The subscriptions a client holds now, so a change of transport can move them. */
export interface FollowingSubscription {
  /** Leaves the current transport and subscribes again on the one `currentLink()` returns now. */
  move(): void;
  /** Ends the subscription, as tRPC's WebSocket client does when it closes (`complete`). */
  end(): void;
  /** True while it waits for its transport to be ready (no open socket): nothing of it was sent. */
  readonly waiting: boolean;
}

/** Where an operation goes now: the current transport's link, and its rules. */
export interface Route {
  link: OperationLink<AnyTRPCRouter>;
  /** Holds the send until the transport can take it (see `SocketGate`); absent: send at once. */
  whenReady?(send: () => void): () => void;
  /** True when this failure leaves the operation to be sent again (see `mayResend`). */
  resendAfter?(error: TRPCClientError<AnyTRPCRouter>): boolean;
}

export interface FollowingObserver {
  next(envelope: Envelope): void;
  error(error: TRPCClientError<AnyTRPCRouter>): void;
  complete(): void;
}

/**
 * Runs an operation on whichever transport `route()` names, and moves it when told (a subscription, or a
 * call not sent yet), resuming where it was: the new request carries the tracked id of the last item received as `lastEventId`, exactly what
 * tRPC's own clients send when they reconnect (`inputWithTrackedEventId` in `@trpc/client`), so the server
 * replays what was missed in between and nothing twice (DESIGN.md, resume). Between the two it reports
 * `connecting`, as a reconnect does, so a channel shows `resuming` until the server says `$live` again.
 *
 * On the WebSocket it waits for an open socket, and one that failed on the way is sent again when the
 * route allows it (`Route.resendAfter`), from the same position.
 *
 * Registered in `live` while it runs, so `move()` and `end()` reach it; removed when it ends.
 */
export function followingSubscription(
  { op: operation, next }: Parameters<OperationLink<AnyTRPCRouter>>[0],
  route: () => Route,
  observer: FollowingObserver,
  live: Set<FollowingSubscription>,
): { unsubscribe(): void; readonly waiting: boolean } {
  // A query or mutation moves only while it has not been sent (see `Connection`): it starts over as is.
  const resumable = operation.type === 'subscription';
  let lastEventId: string | undefined;
  let inner: { unsubscribe(): void } | undefined;
  /** Set while waiting for the route to be ready (an open socket). */
  let cancelWait: (() => void) | undefined;
  let done = false;

  function attach() {
    const { link, whenReady, resendAfter } = route();
    if (!whenReady) return send(link, resendAfter);
    let sentNow = false;
    const cancel = whenReady(() => {
      sentNow = true;
      send(link, resendAfter);
    });
    if (!sentNow) cancelWait = cancel;
  }

  function send(link: OperationLink<AnyTRPCRouter>, resendAfter: Route['resendAfter']) {
    cancelWait = undefined;
    const op =
      lastEventId === undefined
        ? operation
        : { ...operation, input: withLastEventId(operation.input, lastEventId) };
    let current: { unsubscribe(): void } | undefined;
    const stale = () => current !== undefined && inner !== current;
    current = link({ op, next }).subscribe({
      next(envelope) {
        if (stale() || done) return;
        const id = (envelope.result as { id?: unknown }).id;
        if (resumable && typeof id === 'string' && id !== '') lastEventId = id;
        observer.next(envelope as Envelope);
      },
      error(error) {
        if (stale() || done) return;
        if (resendAfter?.(error)) {
          // Failed on the way, and safe to send again: wait for the next socket, as a reconnect does.
          const failed = inner;
          inner = undefined;
          failed?.unsubscribe();
          if (resumable) reportConnecting();
          return attach();
        }
        finish();
        observer.error(error);
      },
      complete() {
        if (stale() || done) return;
        finish();
        observer.complete();
      },
    });
    // A synchronous error or completion already finished (or re-attached) it.
    if (done || inner !== undefined || cancelWait !== undefined) current.unsubscribe();
    else inner = current;
  }

  function reportConnecting() {
    observer.next({ result: { type: 'state', state: 'connecting', error: null } } as unknown as Envelope);
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
      cancelWait?.();
      cancelWait = undefined;
      if (resumable) reportConnecting();
      attach();
    },
    end() {
      if (done) return;
      finish();
      cancelWait?.();
      inner?.unsubscribe();
      observer.complete();
    },
    get waiting() {
      return cancelWait !== undefined;
    },
  };

  live.add(handle);
  attach();
  return {
    unsubscribe() {
      if (done) return;
      finish();
      cancelWait?.();
      inner?.unsubscribe();
    },
    get waiting() {
      return handle.waiting;
    },
  };
}

/** tRPC's rule: the position goes into an object input (or makes one); other inputs are left alone. */
function withLastEventId(input: unknown, lastEventId: string): unknown {
  if (input != null && typeof input !== 'object') return input;
  return { ...(input ?? {}), lastEventId };
}
