/**
 * Editors (textarea, CodeMirror) count UTF-16 code units; `ot-text-unicode` ops and cursors count Unicode
 * code points ("😀".length is 2, one code point). Convert at the editor boundary with these.
 */

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/**
 * Code-point position of the UTF-16 offset `utf16Offset` in `text`, clamped to the text. An offset that falls
 * between the two halves of a surrogate pair is rounded down to before the pair.
 */
export function utf16ToCodePoints(text: string, utf16Offset: number): number {
  const end = Math.max(0, Math.min(utf16Offset, text.length));
  let codePoints = 0;
  for (let i = 0; i < end; i++) {
    if (isHighSurrogate(text.charCodeAt(i)) && isLowSurrogate(text.charCodeAt(i + 1))) {
      if (i + 1 === end) break;
      i++;
    }
    codePoints++;
  }
  return codePoints;
}

/** UTF-16 offset of the code-point position `codePoints` in `text`, clamped to the text. */
export function codePointsToUtf16(text: string, codePoints: number): number {
  let offset = 0;
  for (let remaining = codePoints; remaining > 0 && offset < text.length; remaining--) {
    offset += isSurrogatePairAt(text, offset) ? 2 : 1;
  }
  return offset;
}

/** Length of `text` in code points. */
export function codePointLength(text: string): number {
  return utf16ToCodePoints(text, text.length);
}

/** True when `text[offset]` and `text[offset + 1]` form one surrogate pair. */
export function isSurrogatePairAt(text: string, offset: number): boolean {
  return isHighSurrogate(text.charCodeAt(offset)) && isLowSurrogate(text.charCodeAt(offset + 1));
}

/** Replaces lone surrogates with U+FFFD, so every code-point count agrees with `ot-text-unicode`'s. */
export function toWellFormed(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}
