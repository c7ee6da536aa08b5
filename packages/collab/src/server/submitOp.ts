import { ErrorCode, SwitchboardError } from '@switchboard/protocol';
import { type CommittedOp, collabSubmitInputSchema } from '@switchboard/protocol/demo';
import { type TextOp, type as textType } from 'ot-text-unicode';
import { findOpProblem } from '../opCheck.ts';
import { codePointLength } from '../positions.ts';
import { normalizeOp } from '../textOp.ts';
import type { DocStore } from './docStore.ts';
import { badRequest, fromStore, versionAhead, versionTooOld } from './errors.ts';
import { acknowledgeRetry } from './retriedOp.ts';
import { transformAgainst } from './transformAgainst.ts';

/** Longest pause after a lost compare-and-append race, in ms. */
const MAX_CONFLICT_BACKOFF_MS = 50;

/** What `collab.submit` passes on: the wire input plus the authenticated user. */
export interface SubmitInput {
  docId: string;
  /** The version the op was made against. */
  version: number;
  op: TextOp;
  /**
   * Client-chosen id, scoped to `userId`: the same op sent again under it is acknowledged, not applied twice;
   * another op under it is refused with IDEMPOTENCY_CONFLICT.
   */
  opId: string;
  userId: string;
}

export interface SubmitLimits {
  maxCommitAttempts: number;
  maxDocumentChars: number;
}

/**
 * Commits `input.op` as the next version. Reads the head snapshot with the ops committed since
 * `input.version` (nothing older: the cost is the op, the text once, and the concurrent ops, never the
 * history), transforms the op against those ops, checks that it applies and fits `maxDocumentChars`, and
 * commits it with compare-and-append. When another instance committed first, it reads again from the version
 * it reached and transforms against the new ops only, up to `maxCommitAttempts` times.
 */
export async function submitOp(store: DocStore, input: SubmitInput, limits: SubmitLimits) {
  const parsed = collabSubmitInputSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw badRequest(`invalid submit at ${issue?.path.join('.') || 'input'}: ${issue?.message ?? 'invalid'}`);
  }
  if (typeof input.userId !== 'string') throw badRequest('userId must be a string');
  const { docId, opId } = parsed.data;
  const { userId } = input;
  const submission = { docId, version: parsed.data.version, op: normalizeOp(parsed.data.op) };

  const committedAt = await fromStore(store.findOpId(docId, userId, opId));
  if (committedAt !== null) return acknowledgeRetry(store, submission, committedAt);

  let op = submission.op;
  let base = submission.version;
  for (let attempt = 1; attempt <= limits.maxCommitAttempts; attempt++) {
    const { snapshot, baseVersion, ops } = await fromStore(store.load(docId, base));
    if (base > snapshot.version) throw versionAhead(base, snapshot.version);
    if (base < baseVersion) {
      // On a retry the log moved past us while we waited: the client's version was fine, the store busy.
      if (attempt === 1) throw versionTooOld(base);
      break;
    }
    op = transformAgainst(op, ops, base);
    base = snapshot.version;
    const problem = findOpProblem(op, snapshot.text);
    if (problem) throw badRequest(problem);
    const textAfter = textType.apply(snapshot.text, op);
    checkDocumentSize(snapshot.text, textAfter, limits.maxDocumentChars);
    const committed: CommittedOp = { version: base + 1, op, opId, userId };
    const result = await fromStore(store.commit(docId, committed, textAfter));
    if (result.status === 'committed') return { version: result.version };
    // The same id raced in from another instance (a retry sent while the first attempt was in flight).
    if (result.status === 'duplicate') return acknowledgeRetry(store, submission, result.version);

    // Another instance won the race: back off a little (full jitter) so two busy instances do not keep
    // colliding, then transform against what it committed and try again.
    await new Promise((resolve) =>
      setTimeout(resolve, Math.random() * Math.min(MAX_CONFLICT_BACKOFF_MS, 2 ** attempt)),
    );
  }
  throw new SwitchboardError(ErrorCode.BROKER_UNAVAILABLE, 'document is busy: submit again');
}

/**
 * Refuses an op that grows the document past `maxDocumentChars` code points. UTF-16 length bounds the code
 * point count from above, so the exact count (a scan of the text) is only needed near the limit.
 */
function checkDocumentSize(before: string, after: string, maxDocumentChars: number): void {
  if (after.length <= maxDocumentChars) return;
  const chars = codePointLength(after);
  if (chars <= maxDocumentChars || chars <= codePointLength(before)) return;
  throw badRequest(`the document would exceed ${maxDocumentChars} characters (maxDocumentChars)`);
}
