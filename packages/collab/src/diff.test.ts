import fc from 'fast-check';
import { type as textType } from 'ot-text-unicode';
import { describe, expect, it } from 'vitest';
import { diffToOp } from './diff.ts';

const editorText = fc
  .array(fc.constantFrom('a', 'b', '😀', '😁', 'e\u0301', '\u0301', '👍🏽', '中', ' '), {
    maxLength: 12,
  })
  .map((pieces) => pieces.join(''));

describe('diffToOp', () => {
  it('turns the old text into the new one, with or without a caret hint', () => {
    fc.assert(
      fc.property(editorText, editorText, fc.option(fc.nat(40)), (before, after, cursor) => {
        const op = diffToOp(before, after, cursor ?? undefined);
        expect(textType.apply(before, op)).toBe(after);
        textType.checkOp(op);
      }),
    );
  });

  it('places an ambiguous insert at the caret', () => {
    expect(diffToOp('aa', 'aaa')).toEqual([2, 'a']);
    expect(diffToOp('aa', 'aaa', 2)).toEqual([1, 'a']);
    expect(diffToOp('aa', 'aaa', 1)).toEqual(['a']);
  });

  it('counts positions in code points', () => {
    expect(diffToOp('😀x', '😀yx')).toEqual([1, 'y']);
    expect(diffToOp('😀😀', '😀')).toEqual([1, { d: 1 }]);
  });

  it('never splits a surrogate pair shared by the old and new character', () => {
    // '😀' and '😁' share their high surrogate: the whole emoji is replaced.
    expect(diffToOp('a😀b', 'a😁b')).toEqual([1, { d: 1 }, '😁']);
  });

  it('replaces lone surrogates in the new text with U+FFFD', () => {
    expect(diffToOp('', 'x\uD83D')).toEqual(['x\uFFFD']);
  });

  it('returns an empty op for equal texts', () => {
    expect(diffToOp('same', 'same')).toEqual([]);
  });
});
