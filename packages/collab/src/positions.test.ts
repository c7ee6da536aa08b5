import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codePointLength, codePointsToUtf16, toWellFormed, utf16ToCodePoints } from './positions.ts';

describe('utf16ToCodePoints / codePointsToUtf16', () => {
  it('counts a surrogate pair as one code point and a combining mark as its own', () => {
    const text = 'a😀e\u0301b';
    expect(text.length).toBe(6);
    expect(codePointLength(text)).toBe(5);
    expect(utf16ToCodePoints(text, 3)).toBe(2);
    expect(codePointsToUtf16(text, 2)).toBe(3);
    expect(codePointsToUtf16(text, 4)).toBe(5);
  });

  it('rounds an offset inside a surrogate pair down to before the pair', () => {
    expect(utf16ToCodePoints('a😀', 2)).toBe(1);
  });

  it('clamps to the text', () => {
    expect(utf16ToCodePoints('ab', 10)).toBe(2);
    expect(utf16ToCodePoints('ab', -1)).toBe(0);
    expect(codePointsToUtf16('a😀', 10)).toBe(3);
  });

  it('round-trips every code-point boundary of any well-formed text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const boundaries = [0];
        for (const char of text) boundaries.push(boundaries.at(-1)! + char.length);
        expect(boundaries.map((offset) => utf16ToCodePoints(text, offset))).toEqual(
          boundaries.map((_, i) => i),
        );
        expect(boundaries.map((_, position) => codePointsToUtf16(text, position))).toEqual(boundaries);
      }),
    );
  });
});

describe('toWellFormed', () => {
  it('replaces lone surrogates and keeps pairs', () => {
    expect(toWellFormed('a\uD83Db😀\uDE00')).toBe('a\uFFFDb😀\uFFFD');
  });
});
