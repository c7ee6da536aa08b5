import type { CommittedOp } from '@switchboard/protocol/demo';
import { type TextOp, type as textType } from 'ot-text-unicode';

/**
 * `op` made at `version`, transformed to follow every op of `ops` after that version, one by one with side
 * 'left' (never against a composed history). Clients transform their unacknowledged op the same way, so a
 * retry sent at a later version transforms to exactly the op that was committed.
 */
export function transformAgainst(op: TextOp, ops: readonly CommittedOp[], version: number): TextOp {
  let transformed = op;
  for (const other of ops) {
    if (other.version > version) transformed = textType.transform(transformed, other.op, 'left');
  }
  return transformed;
}
