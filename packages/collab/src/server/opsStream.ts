import { type CommittedOp, collabOpsInputSchema } from '@switchboard/protocol/demo';
import type { DocStore, OpRange } from './docStore.ts';
import { badRequest, fromStore } from './errors.ts';

export interface OpsInput {
  docId: string;
  /** The version the subscriber has: yields ops with `version > fromVersion`. */
  fromVersion: number;
  /** Ends the stream (tRPC passes one per subscription). */
  signal?: AbortSignal;
}

/**
 * Every committed op after `fromVersion`, in version order, with no gap and no duplicate: it subscribes to
 * the store's live feed before reading the log, so nothing falls between the two; live ops at or below the
 * last yielded version are dropped, and a live op that skips a version makes it refill from the log.
 * Runs until `input.signal` or `closed` aborts.
 */
export async function* streamOps(
  store: DocStore,
  input: OpsInput,
  closed: AbortSignal,
): AsyncGenerator<CommittedOp, void, undefined> {
  const parsed = collabOpsInputSchema.safeParse({ docId: input.docId, fromVersion: input.fromVersion });
  if (!parsed.success) throw badRequest(`invalid ops input: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  const { docId, fromVersion } = parsed.data;

  const live: CommittedOp[] = [];
  let resync = false;
  let wake: (() => void) | undefined;
  const wakeUp = () => {
    wake?.();
    wake = undefined;
  };
  const stopped = () => closed.aborted || input.signal?.aborted === true;
  closed.addEventListener('abort', wakeUp);
  input.signal?.addEventListener('abort', wakeUp);

  let unsubscribe: (() => void) | undefined;
  try {
    unsubscribe = await fromStore(
      store.subscribe(docId, {
        onOp(op) {
          live.push(op);
          wakeUp();
        },
        onResync() {
          resync = true;
          wakeUp();
        },
      }),
    );

    const first = await fromStore(store.readOps(docId, fromVersion));
    if (fromVersion > first.headVersion) {
      throw badRequest(`version ${fromVersion} is ahead of the document (at ${first.headVersion})`);
    }
    let last = fromVersion;
    const fromLog = (range: OpRange) => {
      if (last < range.baseVersion)
        throw badRequest(`version ${last} is no longer in the op log: reopen the document`);
      return range.ops.filter((op) => op.version > last);
    };

    for (const op of fromLog(first)) {
      yield op;
      last = op.version;
    }
    while (!stopped()) {
      if (live.length === 0 && !resync) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        continue;
      }
      const next = live.shift();
      if (resync || (next && next.version > last + 1)) {
        resync = false;
        for (const op of fromLog(await fromStore(store.readOps(docId, last)))) {
          if (stopped()) return;
          yield op;
          last = op.version;
        }
      }
      if (next && next.version === last + 1) {
        yield next;
        last = next.version;
      }
    }
  } finally {
    unsubscribe?.();
    closed.removeEventListener('abort', wakeUp);
    input.signal?.removeEventListener('abort', wakeUp);
  }
}
