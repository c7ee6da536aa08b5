import { ErrorCode, SwitchboardError } from '@switchboard/protocol';
import { type CommittedOp, collabSubmitInputSchema } from '@switchboard/protocol/demo';
import { type TextOp, type as textType } from 'ot-text-unicode';
import { findOpProblem } from '../opCheck.ts';
import { normalizeOp } from '../textOp.ts';
import type { DocStore } from './docStore.ts';
import { badRequest, fromStore } from './errors.ts';
import { replayLog } from './replayLog.ts';

/** Longest pause after a lost compare-and-append race, in ms. */
const MAX_CONFLICT_BACKOFF_MS = 50;

/** What `collab.submit` passes on: the wire input plus the authenticated user. */
export interface SubmitInput {
  docId: string;
  /** The version the op was made against. */
  version: number;
  op: TextOp;
  /** Client-chosen id; a resubmission with the same id is acknowledged, not applied twice. */
  opId: string;
  userId: string;
}

/**
 * Transforms `input.op` against every op committed since `input.version`, one by one with side 'left' (never
 * against a composed history), checks that it applies, and commits it with compare-and-append. When another
 * instance committed first, it transforms against the new ops only and tries again, up to `maxCommitAttempts`.
 */
export async function submitOp(store: DocStore, input: SubmitInput, maxCommitAttempts: number) {
  const parsed = collabSubmitInputSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw badRequest(`invalid submit at ${issue?.path.join('.') || 'input'}: ${issue?.message ?? 'invalid'}`);
  }
  if (typeof input.userId !== 'string') throw badRequest('userId must be a string');
  const { docId, version, opId } = parsed.data;

  const committedAt = await fromStore(store.findOpId(docId, opId));
  if (committedAt !== null) return { version: committedAt };

  const log = await fromStore(store.load(docId));
  let { version: head, text } = replayLog(log);
  if (version > head) throw badRequest(`version ${version} is ahead of the document (at ${head})`);
  if (version < log.baseVersion)
    throw badRequest(`version ${version} is no longer in the op log: reopen the document`);
  let op = transformAgainst(normalizeOp(parsed.data.op), log.ops, version);

  for (let attempt = 1; attempt <= maxCommitAttempts; attempt++) {
    const problem = findOpProblem(op, text);
    if (problem) throw badRequest(problem);
    const textAfter = textType.apply(text, op);
    const committed: CommittedOp = { version: head + 1, op, opId, userId: input.userId };
    const result = await fromStore(store.commit(docId, committed, textAfter));
    if (result.status !== 'conflict') return { version: result.version };

    // Another instance won the race: back off a little (full jitter) so two busy instances do not keep
    // colliding, then transform against what it committed and try again.
    await new Promise((resolve) =>
      setTimeout(resolve, Math.random() * Math.min(MAX_CONFLICT_BACKOFF_MS, 2 ** attempt)),
    );
    const range = await fromStore(store.readOps(docId, head));
    if (range.baseVersion > head) break;
    op = transformAgainst(op, range.ops, head);
    for (const other of range.ops) text = textType.apply(text, other.op);
    head = range.headVersion;
  }
  throw new SwitchboardError(ErrorCode.BROKER_UNAVAILABLE, 'document is busy: submit again');
}

/** `op` made at `version`, transformed to follow every op of `ops` after that version, in order. */
function transformAgainst(op: TextOp, ops: readonly CommittedOp[], version: number): TextOp {
  let transformed = op;
  for (const other of ops) {
    if (other.version > version) transformed = textType.transform(transformed, other.op, 'left');
  }
  return transformed;
}
