import { ErrorCode, SwitchboardError } from '@switchboard/protocol';
import { type CommittedOp, docIdSchema } from '@switchboard/protocol/demo';
import { badRequest, fromStore } from './errors.ts';
import { createKeyedLock } from './keyedLock.ts';
import { type OpsInput, streamOps } from './opsStream.ts';
import { type CollabServiceOptions, resolveCollabServiceOptions } from './options.ts';
import { replayLog } from './replayLog.ts';
import { type SubmitInput, submitOp } from './submitOp.ts';

/** The server half of collaborative editing, behind the `collab.open`, `collab.submit` and `collab.ops` procedures. */
export interface CollabService {
  /** The document's current version and text (a new document is version 0, ''). */
  open(docId: string): Promise<{ version: number; text: string }>;
  /**
   * Commits an op made against `version` as the next version, transformed against everything committed since.
   * Rejects with BAD_REQUEST (malformed or too large op, op that does not apply, version ahead of the document
   * or no longer in the log) or BROKER_UNAVAILABLE (store down, or too much contention: submit again, same opId).
   * A resubmitted `opId` resolves with the version it was committed at.
   */
  submit(input: SubmitInput): Promise<{ version: number }>;
  /**
   * Every committed op with `version > fromVersion`, in order, without gaps or duplicates: the log first,
   * then live. Ends when `signal` aborts or the service closes; an invalid `fromVersion` rejects on the
   * first `next()` with BAD_REQUEST.
   */
  ops(input: OpsInput): AsyncIterable<CommittedOp>;
  /** Ends every `ops` stream and refuses further calls. Does not close the store, which the caller owns. Idempotent. */
  close(): Promise<void>;
}

export function createCollabService(options: CollabServiceOptions): CollabService {
  const { store, maxCommitAttempts } = resolveCollabServiceOptions(options);
  const closing = new AbortController();
  const submits = createKeyedLock();

  function assertOpen(): void {
    if (closing.signal.aborted) throw new SwitchboardError(ErrorCode.INTERNAL, 'collab service is closed');
  }

  return {
    async open(docId) {
      assertOpen();
      if (!docIdSchema.safeParse(docId).success) throw badRequest('invalid docId');
      return replayLog(await fromStore(store.load(docId)));
    },

    async submit(input) {
      assertOpen();
      return submits.run(String(input.docId), () => submitOp(store, input, maxCommitAttempts));
    },

    ops(input) {
      assertOpen();
      return streamOps(store, input, closing.signal);
    },

    async close() {
      closing.abort();
    },
  };
}
