import { committedTextOpSchema } from '@switchboard/protocol/demo';
import { type TextOp, type as textType } from 'ot-text-unicode';
import { isSurrogatePairAt } from './positions.ts';

/**
 * Why `op` cannot be applied to `text`, or undefined when it can. `ot-text-unicode`'s own `apply` silently
 * truncates a delete that runs past the end and never compares a `{ d: "text" }` delete with the document,
 * so both are checked here: either would let two replicas apply "the same" op differently.
 */
export function findOpProblem(op: unknown, text: string): string | undefined {
  const parsed = committedTextOpSchema.safeParse(op);
  if (!parsed.success) return `malformed op: ${parsed.error.issues[0]?.message ?? 'invalid'}`;
  try {
    textType.checkOp(parsed.data);
  } catch (error) {
    return `malformed op: ${(error as Error).message}`;
  }
  let offset = 0;
  for (const component of parsed.data) {
    if (typeof component === 'string') continue;
    const length = typeof component === 'number' ? component : component.d;
    const end = typeof length === 'number' ? advance(text, offset, length) : offset + length.length;
    if (end === undefined || end > text.length) return 'op reaches past the end of the document';
    if (typeof length === 'string' && text.slice(offset, end) !== length) {
      return 'deleted text does not match the document';
    }
    offset = end;
  }
  return undefined;
}

/** Checks `op` with `findOpProblem`, then applies it. Throws a plain `Error` naming the problem. */
export function applyChecked(text: string, op: TextOp): string {
  const problem = findOpProblem(op, text);
  if (problem) throw new Error(problem);
  return textType.apply(text, op);
}

/** UTF-16 offset `codePoints` code points after `offset`, or undefined when the text ends first. */
function advance(text: string, offset: number, codePoints: number): number | undefined {
  if (codePoints > text.length - offset) return undefined;
  let end = offset;
  for (let n = 0; n < codePoints; n++) {
    if (end >= text.length) return undefined;
    end += isSurrogatePairAt(text, end) ? 2 : 1;
  }
  return end;
}
