import { describe, expect, it } from 'vitest';
import { applyChecked, findOpProblem } from './opCheck.ts';

describe('findOpProblem', () => {
  it('accepts ops that fit the text, counting code points', () => {
    expect(findOpProblem([2, 'x', { d: 1 }], 'a😀b')).toBeUndefined();
    expect(findOpProblem([1, { d: '😀' }], 'a😀b')).toBeUndefined();
    expect(findOpProblem([], '')).toBeUndefined();
  });

  it.each([
    ['a skip past the end', [4, 'x'], 'past the end'],
    ['a delete past the end (ot-text-unicode would truncate it)', [2, { d: 2 }], 'past the end'],
    ['a delete whose text differs from the document', [{ d: 'ax' }], 'does not match'],
    ['a negative skip', [-1, 'x'], 'malformed'],
    ['an empty insert', [''], 'malformed'],
    ['a trailing skip', ['x', 2], 'malformed'],
    ['adjacent skips', [1, 1, 'x'], 'malformed'],
    ['a lone surrogate', ['\uD83D'], 'malformed'],
    ['not an array', { d: 1 }, 'malformed'],
    ['a fractional skip', [1.5, 'x'], 'malformed'],
  ])('rejects %s', (_name, op, reason) => {
    const problem = findOpProblem(op, 'abc');
    expect(problem).toContain(reason);
  });
});

describe('applyChecked', () => {
  it('applies a valid op and throws on an invalid one', () => {
    expect(applyChecked('abc', [1, 'x'])).toBe('axbc');
    expect(() => applyChecked('abc', [3, { d: 1 }])).toThrow(/past the end/);
  });
});
