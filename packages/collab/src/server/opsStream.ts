import { type CommittedOp, collabOpsInputSchema } from '@switchboard/protocol/demo';
import type { DocStore, OpRange } from './docStore.ts';
import { badRequest, fromStore, versionAhead, versionTooOld } from './errors.ts';

export interface OpsInput {
  docId: string;
  /** The version the subscriber has: yields ops with `version > fromVersion`. */
  fromVersion: number;
  /**
   * The id of the last op a resubscribing client received (its version, as text: tRPC's `lastEventId`).
   * When set it replaces `fromVersion`, so the stream resumes after that op rather than from the start.
   */
  lastEventId?: string | null;
  /** Ends the stream (tRPC passes one per subscription). */
  signal?: AbortSignal;
}

/**
 * Checks where the subscriber wants to start, then returns the stream of every committed op after it. The
 * checks run before the stream exists, so a bad position fails the subscription at its start, as a query
 * would fail: BAD_REQUEST when the position is ahead of the document or older than the op log (reopen).
 */
export async function openOpsStream(
  store: DocStore,
  input: OpsInput,
  closed: AbortSignal,
): Promise<AsyncGenerator<CommittedOp, void, undefined>> {
  const parsed = collabOpsInputSchema.safeParse({
    docId: input.docId,
    fromVersion: input.fromVersion,
    lastEventId: input.lastEventId,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw badRequest(
      `invalid ops input at ${issue?.path.join('.') || 'input'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  const { docId, fromVersion, lastEventId } = parsed.data;
  const from = lastEventId != null ? Number(lastEventId) : fromVersion;
  const first = await fromStore(store.readOps(docId, from));
  if (from > first.headVersion) throw versionAhead(from, first.headVersion);
  if (from < first.baseVersion) throw versionTooOld(from);
  return streamOps(store, docId, from, first.ops, input.signal, closed);
}

/**
 * Every committed op after `from`, in version order, with no gap and no duplicate: `prefetched` (read by
 * `openOpsStream`) first, then, once subscribed to the store's live feed, the log again from the last
 * yielded version, so nothing committed in between falls through; live ops at or below the last yielded
 * version are dropped, and a live op that skips a version makes it refill from the log.
 * Runs until `signal` or `closed` aborts.
 */
async function* streamOps(
  store: DocStore,
  docId: string,
  from: number,
  prefetched: readonly CommittedOp[],
  signal: AbortSignal | undefined,
  closed: AbortSignal,
): AsyncGenerator<CommittedOp, void, undefined> {
  const live: CommittedOp[] = [];
  // Starts true: the log is read once more after subscribing, for ops committed since `prefetched`.
  let resync = true;
  let wake: (() => void) | undefined;
  const wakeUp = () => {
    wake?.();
    wake = undefined;
  };
  const stopped = () => closed.aborted || signal?.aborted === true;
  closed.addEventListener('abort', wakeUp);
  signal?.addEventListener('abort', wakeUp);
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
    let last = from;
    for (const op of prefetched) {
      if (stopped()) return;
      yield op;
      last = op.version;
    }
    const fromLog = (range: OpRange) => {
      if (last < range.baseVersion) throw versionTooOld(last);
      return range.ops.filter((op) => op.version > last);
    };
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
    signal?.removeEventListener('abort', wakeUp);
  }
}
