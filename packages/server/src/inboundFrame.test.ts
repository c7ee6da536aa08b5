import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { largestItemBytes, readInboundFrame } from './inboundFrame.ts';

const limits = { maxPayloadBytes: 1024, maxBatchSize: 300 };

/** JSON text nested `depth` deep, as a hostile client writes it (no recursion to build or to print). */
const nested = (depth: number, open: string, close: string) => `${open.repeat(depth)}${close.repeat(depth)}`;

describe('readInboundFrame', () => {
  it('never throws, whatever the nesting and size of a batch (the stack is not the client’s to spend)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200_000 }),
        fc.constantFrom('array', 'object'),
        fc.boolean(),
        (depth, shape, asItem) => {
          const deep =
            shape === 'array' ? nested(depth, '[', ']') : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
          const text = asItem ? `[{"id":1,"method":"query","params":{"path":"x"}},${deep}]` : deep;
          const frame = readInboundFrame(Buffer.from(text), false, limits);
          expect(frame.kind).toBe('refused');
        },
      ),
      { seed: 7, numRuns: 60 },
    );
  });

  it('measures each item of a batch as its own JSON text', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue({ maxDepth: 4 }), { minLength: 1, maxLength: 8 }), (items) => {
        const expected = Math.max(...items.map((item) => Buffer.byteLength(JSON.stringify(item))));
        expect(largestItemBytes(JSON.stringify(items))).toBe(expected);
        expect(largestItemBytes(JSON.stringify(items, null, 2))).toBeGreaterThanOrEqual(expected);
      }),
      { seed: 8, numRuns: 300 },
    );
  });
});
