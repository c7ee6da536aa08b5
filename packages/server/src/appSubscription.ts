import { isTrackedEnvelope } from '@trpc/server';
import { isObservable, observableToAsyncIterable } from '@trpc/server/observable';
import type { TRPCResultMessage } from '@trpc/server/rpc';

type SubscriptionResult = TRPCResultMessage<unknown>['result'];

export interface AppSubscriptionSink {
  /** Sends one result frame (`data` or `stopped`). */
  result(result: SubscriptionResult): void;
  /** Reports an error the iterator threw (mapped like a query's error). */
  error(cause: unknown): void;
  /** Runs once the subscription ended, whichever way. */
  done(): void;
}

/**
 * Serves a subscription of the app's own (an async iterable or observable) the way tRPC's `applyWSSHandler`
 * does: each item is a `data` result, and an item made with `tracked(id, data)` carries `id` so the client
 * resends it as `lastEventId` when it resubscribes (it arrives in the procedure's input, see `connection.ts`).
 * Returns false when the procedure returned something that is not a stream.
 */
export function pumpAppSubscription(
  result: unknown,
  signal: AbortSignal,
  sink: AppSubscriptionSink,
): boolean {
  const iterable = isObservable(result)
    ? observableToAsyncIterable(result, signal)
    : (result as AsyncIterable<unknown> | null);
  if (typeof iterable?.[Symbol.asyncIterator] !== 'function') return false;
  const iterator = iterable[Symbol.asyncIterator]();
  signal.addEventListener('abort', () => void iterator.return?.(), { once: true });
  void (async () => {
    try {
      while (!signal.aborted) {
        const next = await iterator.next();
        if (next.done || signal.aborted) break;
        sink.result(dataResult(next.value));
      }
      if (!signal.aborted) sink.result({ type: 'stopped' });
    } catch (cause) {
      if (!signal.aborted) sink.error(cause);
    } finally {
      sink.done();
    }
  })();
  return true;
}

/** A `data` result; a tracked item is sent as `{ id, data: { id, data } }`, exactly as tRPC sends it. */
function dataResult(value: unknown): SubscriptionResult {
  if (!isTrackedEnvelope(value)) return { type: 'data', data: value };
  const [id, data] = value;
  return { type: 'data', id, data: { id, data } };
}
