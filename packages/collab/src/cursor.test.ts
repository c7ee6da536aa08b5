import { type as textType } from 'ot-text-unicode';
import { describe, expect, it } from 'vitest';
import { transformCursor, transformSelection, transformUtf16Offset } from './cursor.ts';

describe('transformCursor', () => {
  it('shifts a cursor after an insert before it, and keeps it before an insert at its position', () => {
    expect(transformCursor(3, [1, '😀'])).toBe(4);
    expect(transformCursor(1, [1, 'x'])).toBe(1);
  });

  it('moves a cursor inside a deleted range to its start', () => {
    expect(transformCursor(4, [2, { d: 5 }])).toBe(2);
  });
});

describe('transformSelection', () => {
  it('moves both ends, keeping their order', () => {
    expect(transformSelection({ anchor: 5, head: 1 }, ['ab'])).toEqual({ anchor: 7, head: 3 });
  });
});

describe('transformUtf16Offset', () => {
  it('maps an editor offset through an op counted in code points', () => {
    const previousText = '😀ab';
    const op = [1, '👍🏽'];
    const text = textType.apply(previousText, op);
    // Caret after "a" (UTF-16 offset 3) stays after "a": 👍🏽 is 4 UTF-16 units.
    expect(transformUtf16Offset(previousText, 3, op, text)).toBe(7);
    expect(text.slice(0, 7)).toBe('😀👍🏽a');
  });
});
