import { type TextOp, type as textType } from 'ot-text-unicode';
import { codePointsToUtf16, utf16ToCodePoints } from './positions.ts';

/**
 * Moves a cursor (code points) through `op`, so it points at the same character afterwards. A cursor exactly
 * where `op` inserts stays before the inserted text.
 */
export function transformCursor(position: number, op: TextOp): number {
  return textType.transformPosition(position, op);
}

/** A selection in code points; `head` may be before `anchor`. */
export interface Selection {
  anchor: number;
  head: number;
}

/** Moves both ends of a selection (code points) through `op`. */
export function transformSelection(selection: Selection, op: TextOp): Selection {
  return { anchor: transformCursor(selection.anchor, op), head: transformCursor(selection.head, op) };
}

/**
 * Moves an editor offset (UTF-16) through `op`: `previousText` is the text the offset points into, `text` the
 * result of applying `op` to it (both are in an `OtClient` change event).
 */
export function transformUtf16Offset(previousText: string, offset: number, op: TextOp, text: string): number {
  return codePointsToUtf16(text, transformCursor(utf16ToCodePoints(previousText, offset), op));
}
