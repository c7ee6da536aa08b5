import { MAX_OP_COMPONENTS, MAX_OP_TEXT_LENGTH } from '@switchboard/protocol/demo';
import { type TextOp, type as textType } from 'ot-text-unicode';
import { describe, expect, it } from 'vitest';
import { fitsSubmitLimits, splitOpForSubmit } from './opLimits.ts';

function applyAll(text: string, ops: TextOp[]): string {
  return ops.reduce((current, op) => textType.apply(current, op), text);
}

describe('splitOpForSubmit', () => {
  it('returns an op within the limits unchanged', () => {
    expect(splitOpForSubmit([3, 'abc', { d: 2 }])).toEqual([[3, 'abc', { d: 2 }]]);
  });

  it('splits a paste longer than MAX_OP_TEXT_LENGTH without cutting surrogate pairs', () => {
    const paste = '😀x'.repeat(MAX_OP_TEXT_LENGTH);
    const op: TextOp = [2, { d: 1 }, paste];
    const parts = splitOpForSubmit(op);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) expect(fitsSubmitLimits(part)).toBe(true);
    expect(applyAll('abcdef', parts)).toBe(textType.apply('abcdef', op));
  });

  it('splits an op with more than MAX_OP_COMPONENTS components', () => {
    const text = 'x'.repeat(MAX_OP_COMPONENTS * 2);
    const op: TextOp = [];
    for (let i = 0; i < MAX_OP_COMPONENTS; i++) op.push(1, i % 2 === 0 ? 'y' : { d: 1 });
    const parts = splitOpForSubmit(op);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) expect(fitsSubmitLimits(part)).toBe(true);
    expect(applyAll(text, parts)).toBe(textType.apply(text, op));
  });
});
