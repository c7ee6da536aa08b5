import { describe, expect, it } from 'vitest';
import { compareEventIds, formatEventId, newEpoch, parseEventId } from './eventId.ts';

describe('event ids', () => {
  it('round-trips memory and Redis stream positions', () => {
    expect(parseEventId(formatEventId('abc', 12))).toMatchObject({
      epoch: 'abc',
      major: 12,
      minor: 0,
      position: '12',
    });
    expect(parseEventId('abc:1700000000000-3')).toMatchObject({
      major: 1700000000000,
      minor: 3,
      position: '1700000000000-3',
    });
  });

  it('orders by position', () => {
    expect(compareEventIds('e:2', 'e:10')).toBeLessThan(0);
    expect(compareEventIds('e:5-1', 'e:5-0')).toBeGreaterThan(0);
    expect(compareEventIds('e:7', 'e:7')).toBe(0);
  });

  it('rejects ids it did not issue', () => {
    for (const id of ['', 'nocolon', 'UPPER:1', 'e:-1', 'e:1-2-3', `${'a'.repeat(17)}:1`])
      expect(parseEventId(id)).toBeNull();
  });

  it('makes 8-character epochs', () => {
    expect(newEpoch()).toMatch(/^[a-z0-9]{8}$/);
  });
});
