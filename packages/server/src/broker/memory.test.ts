import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { describeBroker, stored } from './contract.ts';
import { createMemoryBroker } from './memory.ts';

// A fresh broker per test holds only that test's channels, so its channel count is the family's.
describeBroker('memory', (options) => createMemoryBroker(options), {
  retained: async (broker) => broker.stats().channels,
});

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

describe('memory broker', () => {
  it('holds memory in proportion to what channels store, and none once they are idle and expired', async () => {
    const CHANNELS = 15_000;
    const MAX_AGE_MS = 500;
    const broker = createMemoryBroker({ historyMaxAgeMs: MAX_AGE_MS });
    const baseline = heapAfterGc();
    // One subscriber and one event per channel, then everyone leaves: the pattern that used to keep a
    // preallocated 1,000-slot history (about 8 KB) per channel forever.
    for (let i = 0; i < CHANNELS; i++) {
      const channel = `chat:r${i}`;
      const unsubscribe = await broker.subscribe(channel, () => {});
      await broker.position(channel);
      await broker.publish(channel, stored('message', { text: 'hi' }));
      unsubscribe();
    }
    expect(broker.stats()).toEqual({ channels: CHANNELS, storedEvents: CHANNELS, idempotencyKeys: 0 });
    // About 600 bytes per channel holding one small event (the event's own strings included).
    expect(heapAfterGc() - baseline).toBeLessThan(CHANNELS * 1024);

    await expect.poll(() => broker.stats().channels, { timeout: MAX_AGE_MS + 5000, interval: 50 }).toBe(0);
    expect(broker.stats()).toEqual({ channels: 0, storedEvents: 0, idempotencyKeys: 0 });
    expect(heapAfterGc() - baseline).toBeLessThan(1024 * 1024);
    await broker.close();
  });

  it('rejects a history without an age limit with a message that names the fix', () => {
    expect(() => createMemoryBroker({ historyMaxAgeMs: 0 })).toThrow(/historyMaxAgeMs must be a positive/);
    expect(() => createMemoryBroker({ historySize: -1 })).toThrow(/historySize/);
  });
});
