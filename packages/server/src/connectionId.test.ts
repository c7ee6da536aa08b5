import { describe, expect, it } from 'vitest';
import { newConnectionId } from './connectionId.ts';

describe('newConnectionId', () => {
  it('gives 32 hex characters, never the same twice across several refills of its pool', () => {
    const ids = Array.from({ length: 1_000 }, () => newConnectionId());
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
