import { ErrorCode, KeyedQueue, SwitchboardError } from '@switchboard/protocol';
import { type CommittedOp, docIdSchema } from '@switchboard/protocol/demo';
import { badRequest, fromStore } from './errors.ts';
import { type OpsInput, openOpsStream } from './opsStream.ts';
import { type CollabServiceOptions, resolveCollabServiceOptions } from './options.ts';
import { type SubmitInput, submitOp } from './submitOp.ts';

/** The server half of collaborative editing, behind the `collab.open`, `collab.submit` and `collab.ops` procedures. */
export interface CollabService {
  /** The document's current version and text (a document nobody edited is version 0, ''). Creates nothing. */
  open(docId: string): Promise<{ version: number; text: string }>;
  /**
   * Commits an op made against `version` as the next version, transformed against everything committed since.
   * Rejects with BAD_REQUEST (malformed or too large op, op that does not apply, document past
   * `maxDocumentChars`, version ahead of the document or no longer in the log: reopen), IDEMPOTENCY_CONFLICT
   * (the author's op id already names another op) or BROKER_UNAVAILABLE (store down, or too much
   * contention: submit again, same opId). The same op resubmitted under its id (by its author) resolves with
   * the version it was committed at.
   */
  submit(input: SubmitInput): Promise<{ version: number }>;
  /**
   * Every committed op with `version > fromVersion` (or `> lastEventId`, when a resubscribing client sends
   * one), in order, without gaps or duplicates: the log first, then live. Checks the position before it
   * resolves: a version ahead of the document or older than the log rejects with BAD_REQUEST, so the
   * subscription fails at its start. The stream ends when `signal` aborts or the service closes.
   */
  ops(input: OpsInput): Promise<AsyncIterable<CommittedOp>>;
  /** Ends every `ops` stream and refuses further calls. Does not close the store, which the caller owns. Idempotent. */
  close(): Promise<void>;
}

export function createCollabService(options: CollabServiceOptions): CollabService {
  const { store, maxCommitAttempts, maxDocumentChars } = resolveCollabServiceOptions(options);
  const closing = new AbortController();
  const submits = new KeyedQueue();

  function assertOpen(): void {
    if (closing.signal.aborted) throw new SwitchboardError(ErrorCode.INTERNAL, 'collab service is closed');
  }

  return {
    async open(docId) {
      assertOpen();
      if (!docIdSchema.safeParse(docId).success) throw badRequest('invalid docId');
      return (await fromStore(store.load(docId))).snapshot;
    },

    async submit(input) {
      assertOpen();
      return submits.run(String(input.docId), () =>
        submitOp(store, input, { maxCommitAttempts, maxDocumentChars }),
      );
    },

    async ops(input) {
      assertOpen();
      return openOpsStream(store, input, closing.signal);
    },

    async close() {
      closing.abort();
    },
  };
}
