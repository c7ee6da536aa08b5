import { ErrorCode, SwitchboardError } from '@switchboard/protocol';
import type { TextOp } from 'ot-text-unicode';
import { codePointLength } from '../positions.ts';
import { normalizeOp } from '../textOp.ts';
import type { DocStore } from './docStore.ts';
import { fromStore, versionTooOld } from './errors.ts';
import { transformAgainst } from './transformAgainst.ts';

/** What a submit claims to be: the op (normalized) as made against `version`, under the author's op id. */
export interface Submission {
  docId: string;
  version: number;
  op: TextOp;
}

/**
 * Answers a submit whose author already committed an op under the same id, at `committedAt`. It is the same
 * op sent again (a lost acknowledgement) when, transformed against the ops committed between its version and
 * `committedAt`, it equals the committed op: then it resolves with `committedAt` and nothing is written. A
 * client that transformed its unacknowledged op against ops it received meanwhile resends it at a later
 * version, and passes too. Anything else reuses the id for another op and is refused with
 * IDEMPOTENCY_CONFLICT, never acknowledged: acknowledging it would drop the edit silently.
 */
export async function acknowledgeRetry(
  store: DocStore,
  submission: Submission,
  committedAt: number,
): Promise<{ version: number }> {
  const { docId, version, op } = submission;
  // A client that has seen `committedAt` has seen its op acknowledged: this is another op.
  if (version >= committedAt) throw reusedOpId();
  const range = await fromStore(store.readOps(docId, version));
  const committed = range.ops.find((other) => other.version === committedAt);
  if (version < range.baseVersion || !committed) throw versionTooOld(version);
  const expected = transformAgainst(
    op,
    range.ops.filter((other) => other.version < committedAt),
    version,
  );
  if (!sameEffect(expected, committed.op)) throw reusedOpId();
  return { version: committedAt };
}

function reusedOpId(): SwitchboardError {
  return new SwitchboardError(
    ErrorCode.IDEMPOTENCY_CONFLICT,
    'op id already used for another op: give every op its own id',
  );
}

/** Equal once normalized, with deletes compared by length (`{ d: "ab" }` and `{ d: 2 }` delete the same). */
function sameEffect(a: TextOp, b: TextOp): boolean {
  const canonical = (op: TextOp) =>
    JSON.stringify(
      normalizeOp(
        op.map((c) =>
          typeof c === 'object' ? { d: typeof c.d === 'string' ? codePointLength(c.d) : c.d } : c,
        ),
      ),
    );
  return canonical(a) === canonical(b);
}
