import { type TextOp, type as textType } from 'ot-text-unicode';
import { codePointLength, isSurrogatePairAt, toWellFormed } from './positions.ts';

/**
 * The op that turns `oldText` into `newText`, as one contiguous change (what a single `input` event of an
 * editor produces; several separate changes become one larger replacement, still correct).
 *
 * `cursorUtf16`, the caret in `newText` after the edit, resolves ambiguity when the same characters repeat:
 * typing "a" after the first "a" of "aa" is an insert at 1, not at 2, which keeps concurrent edits and remote
 * cursors where users expect them.
 *
 * Lone surrogates in `newText` become U+FFFD (the server rejects ill-formed text), so apply the op to
 * `oldText` (or read the `OtClient`'s text) rather than keeping `newText`.
 */
export function diffToOp(oldText: string, newText: string, cursorUtf16?: number): TextOp {
  const next = toWellFormed(newText);
  const maxCommon = Math.min(oldText.length, next.length);
  let prefix = 0;
  while (prefix < maxCommon && oldText.charCodeAt(prefix) === next.charCodeAt(prefix)) prefix++;
  if (cursorUtf16 !== undefined) {
    const grown = Math.max(0, next.length - oldText.length);
    prefix = Math.max(0, Math.min(prefix, cursorUtf16 - grown));
  }
  // Never split a surrogate pair: the shared high surrogate of "😀" and "😁" belongs to the change.
  if (prefix > 0 && isSurrogatePairAt(oldText, prefix - 1)) prefix--;

  let suffix = 0;
  const maxSuffix = maxCommon - prefix;
  while (
    suffix < maxSuffix &&
    oldText.charCodeAt(oldText.length - 1 - suffix) === next.charCodeAt(next.length - 1 - suffix)
  ) {
    suffix++;
  }
  if (suffix > 0 && isSurrogatePairAt(oldText, oldText.length - suffix - 1)) suffix--;

  const deleted = oldText.slice(prefix, oldText.length - suffix);
  const inserted = next.slice(prefix, next.length - suffix);
  return textType.normalize([
    codePointLength(oldText.slice(0, prefix)),
    { d: codePointLength(deleted) },
    inserted,
  ]);
}
