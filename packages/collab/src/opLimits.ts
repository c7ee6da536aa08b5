import { MAX_OP_COMPONENTS, MAX_OP_TEXT_LENGTH, textOpSchema } from '@switchboard/protocol/demo';
import { type TextOp, type as textType } from 'ot-text-unicode';
import { codePointLength, isSurrogatePairAt } from './positions.ts';

/** True when the server accepts `op`'s size (`MAX_OP_COMPONENTS`, `MAX_OP_TEXT_LENGTH`). */
export function fitsSubmitLimits(op: TextOp): boolean {
  return textOpSchema.safeParse(op).success;
}

/**
 * Splits an op that exceeds the submit limits (a large paste) into ops that each fit and that, applied one
 * after another, give the same text. Each part starts with a skip to where the previous one stopped: text
 * before that point is already edited, text after it is not yet, so the components keep their meaning.
 * Inserts in one part are never adjacent, because a server-side transform would merge them past the limit.
 */
export function splitOpForSubmit(op: TextOp): TextOp[] {
  if (fitsSubmitLimits(op)) return [op];
  const parts: TextOp[] = [];
  let part: TextOp = [];
  let partStart = 0;
  let position = 0;
  const flush = () => {
    const normalized = textType.normalize(partStart > 0 ? [partStart, ...part] : part);
    if (normalized.length > 0) parts.push(normalized);
    part = [];
    partStart = position;
  };
  for (const component of op) {
    if (typeof component === 'number') {
      part.push(component);
      position += component;
    } else if (typeof component === 'string') {
      for (const piece of chunkText(component, MAX_OP_TEXT_LENGTH)) {
        if (typeof part[part.length - 1] === 'string') flush();
        part.push(piece);
        position += codePointLength(piece);
      }
    } else {
      // A long `{ d: "text" }` could itself exceed the limit; the count is all the server needs.
      part.push({ d: typeof component.d === 'number' ? component.d : codePointLength(component.d) });
    }
    // Leave room for the leading skip of the part.
    if (part.length >= MAX_OP_COMPONENTS - 1) flush();
  }
  flush();
  return parts;
}

/** Splits `text` into pieces of at most `maxLength` UTF-16 units, never inside a surrogate pair. */
function chunkText(text: string, maxLength: number): string[] {
  const pieces: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(start + maxLength, text.length);
    if (end < text.length && isSurrogatePairAt(text, end - 1)) end--;
    pieces.push(text.slice(start, end));
    start = end;
  }
  return pieces;
}
