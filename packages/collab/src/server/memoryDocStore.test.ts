import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { createCollabService } from './collabService.ts';
import { describeDocStore } from './docStoreContract.ts';
import { createMemoryDocStore } from './memoryDocStore.ts';

describeDocStore('memory', (options) => createMemoryDocStore(options));

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

describe('createMemoryDocStore', () => {
  it('rejects options that cannot work, naming the fix', () => {
    expect(() => createMemoryDocStore({ documentTtlMs: 0 })).toThrow(
      /documentTtlMs must be a positive integer/,
    );
    expect(() => createMemoryDocStore({ retainOps: 0 })).toThrow(/retainOps must be a positive integer/);
  });

  it('keeps nothing for reads of unknown documents, and releases edited ones after documentTtlMs', async () => {
    const DOCS = 20_000;
    const TTL_MS = 300;
    /** What a crawler or a hostile client does: open, and start and stop an ops stream, on random ids. */
    async function readUnknown(service: ReturnType<typeof createCollabService>, count: number) {
      for (let i = 0; i < count; i++) {
        const docId = `unknown-${i}`;
        await service.open(docId);
        const abort = new AbortController();
        const iterator = (await service.ops({ docId, fromVersion: 0, signal: abort.signal }))[
          Symbol.asyncIterator
        ]();
        const next = iterator.next();
        abort.abort();
        await next;
      }
    }
    /** Edits: each document is kept (text plus its ops) until it has been idle for the TTL. */
    async function edit(service: ReturnType<typeof createCollabService>, count: number) {
      for (let i = 0; i < count; i++) {
        await service.submit({
          docId: `edited-${i}`,
          version: 0,
          op: ['x'.repeat(100)],
          opId: 'a',
          userId: 'u',
        });
      }
    }
    // Warmed up on a service of its own first, so the code V8 compiles for these paths is in the baseline,
    // not counted as kept (it made the figures swing by ~0.5 MB between runs).
    const warmUp = createCollabService({ store: createMemoryDocStore({ documentTtlMs: TTL_MS }) });
    await readUnknown(warmUp, 1_000);
    await edit(warmUp, 250);
    await warmUp.close();
    const service = createCollabService({ store: createMemoryDocStore({ documentTtlMs: TTL_MS }) });
    const baseline = heapAfterGc();
    await readUnknown(service, DOCS);
    const afterReads = heapAfterGc() - baseline;
    await edit(service, DOCS / 4);
    const whileEdited = heapAfterGc() - baseline;
    await new Promise((resolve) => setTimeout(resolve, TTL_MS + 50));
    await service.open('any'); // expiry runs on the store's next call
    const afterTtl = heapAfterGc() - baseline;
    console.info(
      `memory doc store: ${DOCS} unknown ids read → ${(afterReads / 1e6).toFixed(2)} MB; ` +
        `${DOCS / 4} edited → ${(whileEdited / 1e6).toFixed(2)} MB; after the TTL → ${(afterTtl / 1e6).toFixed(2)} MB`,
    );
    expect(afterReads).toBeLessThan(1_000_000);
    expect(whileEdited).toBeGreaterThan(1_000_000);
    expect(afterTtl).toBeLessThan(1_000_000);
    await service.close();
  }, 60_000);
});
