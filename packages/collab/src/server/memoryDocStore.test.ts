import { describe, expect, it } from 'vitest';
import { describeDocStore } from './docStoreContract.ts';
import { createMemoryDocStore } from './memoryDocStore.ts';

describeDocStore('memory', (options) => createMemoryDocStore(options));

describe('createMemoryDocStore', () => {
  it('rejects options that cannot work, naming the fix', () => {
    expect(() => createMemoryDocStore({ documentTtlMs: 0 })).toThrow(
      /documentTtlMs must be a positive integer/,
    );
    expect(() => createMemoryDocStore({ retainOps: -1 })).toThrow(/retainOps must be a non-negative integer/);
  });
});
