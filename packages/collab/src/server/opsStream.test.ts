import { ErrorCode, isSwitchboardError } from '@switchboard/protocol';
import type { CommittedOp } from '@switchboard/protocol/demo';
import { afterEach, describe, expect, it } from 'vitest';
import { type CollabService, createCollabService } from './collabService.ts';
import type { DocStore, DocStoreListener } from './docStore.ts';
import { createMemoryDocStore } from './memoryDocStore.ts';

const services: CollabService[] = [];
function serviceOn(store: DocStore): CollabService {
  const service = createCollabService({ store });
  services.push(service);
  return service;
}
afterEach(async () => {
  await Promise.all(services.splice(0).map((service) => service.close()));
});

async function submitMany(service: CollabService, from: number, count: number): Promise<void> {
  for (let version = from; version < from + count; version++) {
    await service.submit({
      docId: 'doc',
      version,
      op: [String(version % 10)],
      opId: `op${version + 1}`,
      userId: 'u',
    });
  }
}

/** Reads `count` ops from an iterator, then stops it. */
async function take(stream: AsyncIterable<CommittedOp>, count: number): Promise<number[]> {
  const versions: number[] = [];
  if (count === 0) return versions;
  for await (const op of stream) {
    versions.push(op.version);
    if (versions.length === count) break;
  }
  return versions;
}

describe('ops', () => {
  it('catches up from the log, then goes live, with no gap and no duplicate', async () => {
    const service = serviceOn(createMemoryDocStore());
    await submitMany(service, 0, 5);
    const stream = await service.ops({ docId: 'doc', fromVersion: 2 });
    const reading = take(stream, 8);
    // Submits racing the catch-up: each version must still come exactly once, in order.
    await submitMany(service, 5, 5);
    expect(await reading).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('catches up from any version within retainOps', async () => {
    const service = serviceOn(createMemoryDocStore({ retainOps: 4 }));
    await submitMany(service, 0, 10);
    expect(await take(await service.ops({ docId: 'doc', fromVersion: 6 }), 4)).toEqual([7, 8, 9, 10]);
  });

  it('resumes after lastEventId (the last op a resubscribing tRPC client received) instead of fromVersion', async () => {
    const service = serviceOn(createMemoryDocStore({ retainOps: 4 }));
    await submitMany(service, 0, 10);
    // fromVersion 1 is no longer in the log: only lastEventId makes this resume possible.
    const resumed = await service.ops({ docId: 'doc', fromVersion: 1, lastEventId: '8' });
    expect(await take(resumed, 2)).toEqual([9, 10]);
    expect(await take(await service.ops({ docId: 'doc', fromVersion: 9, lastEventId: null }), 1)).toEqual([
      10,
    ]);
    for (const lastEventId of ['x', '-1', '08', '1.5', '']) {
      const error = await service.ops({ docId: 'doc', fromVersion: 9, lastEventId }).then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(isSwitchboardError(error) && error.code, lastEventId).toBe(ErrorCode.BAD_REQUEST);
    }
  });

  it('refills from the log when the live feed skips versions, and on resync', async () => {
    const lossy = lossyStore(createMemoryDocStore());
    const service = serviceOn(lossy.store);
    const stream = await service.ops({ docId: 'doc', fromVersion: 0 });
    const reading = take(stream, 7);
    await submitMany(service, 0, 7);
    expect(await reading).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(lossy.dropped()).toBe(3);

    // A lost op with nothing after it is only found again through onResync.
    const second = (await service.ops({ docId: 'doc', fromVersion: 7 }))[Symbol.asyncIterator]();
    const next = second.next();
    await lossy.subscribed(2);
    // Let the stream finish its first read of the log, so op 8 can only come live (and is dropped).
    await new Promise<void>((resolve) => setImmediate(resolve));
    lossy.dropAll = true;
    await submitMany(service, 7, 1);
    lossy.resync();
    expect((await next).value).toMatchObject({ version: 8 });
    await second.return?.();
  });

  it('ends when the signal aborts', async () => {
    const service = serviceOn(createMemoryDocStore());
    const abort = new AbortController();
    const iterator = (await service.ops({ docId: 'doc', fromVersion: 0, signal: abort.signal }))[
      Symbol.asyncIterator
    ]();
    const next = iterator.next();
    abort.abort();
    expect(await next).toEqual({ done: true, value: undefined });
  });

  it('ends every stream when the service closes', async () => {
    const service = serviceOn(createMemoryDocStore());
    const iterator = (await service.ops({ docId: 'doc', fromVersion: 0 }))[Symbol.asyncIterator]();
    const next = iterator.next();
    await service.close();
    expect(await next).toEqual({ done: true, value: undefined });
  });

  it('rejects a fromVersion ahead of the document or no longer in the log with BAD_REQUEST, before streaming', async () => {
    const service = serviceOn(createMemoryDocStore({ retainOps: 2 }));
    await submitMany(service, 0, 6);
    for (const [fromVersion, message] of [
      [7, /ahead of the document/],
      [3, /reopen the document/],
    ] as const) {
      // The promise of the stream itself rejects, so a tRPC procedure that awaits it fails like a query.
      const error = await service.ops({ docId: 'doc', fromVersion }).then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(isSwitchboardError(error) && error.code).toBe(ErrorCode.BAD_REQUEST);
      expect((error as Error).message).toMatch(message);
    }
    expect(await take(await service.ops({ docId: 'doc', fromVersion: 4 }), 2)).toEqual([5, 6]);
  });
});

/** Wraps a store so its live feed drops every other op (or all, with `dropAll`), like a pub/sub that lost messages. */
function lossyStore(store: DocStore) {
  const listeners = new Set<DocStoreListener>();
  let count = 0;
  let dropped = 0;
  let subscriptions = 0;
  const waiters: { count: number; resolve: () => void }[] = [];
  const control = {
    /** Resolves once `n` subscriptions were made through this store. */
    subscribed: (n: number) =>
      new Promise<void>((resolve) => (subscriptions >= n ? resolve() : waiters.push({ count: n, resolve }))),
    dropAll: false,
    dropped: () => dropped,
    resync: () => {
      for (const listener of listeners) listener.onResync?.();
    },
    store: {
      ...store,
      async subscribe(docId: string, listener: DocStoreListener) {
        listeners.add(listener);
        const unsubscribe = await store.subscribe(docId, {
          onOp(op) {
            if (control.dropAll || ++count % 2 === 0) {
              dropped++;
              return;
            }
            listener.onOp(op);
          },
        });
        subscriptions++;
        for (const waiter of waiters) if (waiter.count <= subscriptions) waiter.resolve();
        return () => {
          listeners.delete(listener);
          unsubscribe();
        };
      },
    } satisfies DocStore,
  };
  return control;
}
