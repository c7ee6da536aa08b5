import fc from 'fast-check';
import { type as textType } from 'ot-text-unicode';
import { describe, expect, it } from 'vitest';
import { observeOps, Simulation } from './__tests__/simulation.ts';
import { createCollabService } from './server/collabService.ts';
import { createMemoryDocStore } from './server/memoryDocStore.ts';

/** Pieces of inserted text: ASCII, a precomposed and a decomposed é, a lone combining mark, astral emoji
 * (surrogate pairs), an emoji with a skin-tone modifier, a flag (two regional indicators), CJK, a newline. */
const textPiece = fc.constantFrom(
  'a',
  'b',
  'Z',
  ' ',
  'é',
  'e\u0301',
  '\u0301',
  '😀',
  '👍🏽',
  '🇫🇷',
  '中',
  '\n',
);
const insertText = fc.array(textPiece, { maxLength: 4 }).map((pieces) => pieces.join(''));

const MAX_CLIENTS = 4;
const command = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('edit' as const),
      client: fc.nat(MAX_CLIENTS - 1),
      at: fc.double({ min: 0, max: 1, noNaN: true }),
      deleteCount: fc.nat(3),
      insert: insertText,
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('deliverSubmit' as const), client: fc.nat(MAX_CLIENTS - 1) }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('deliverOps' as const),
      client: fc.nat(MAX_CLIENTS - 1),
      count: fc.integer({ min: 1, max: 3 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('disconnect' as const), client: fc.nat(MAX_CLIENTS - 1) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('reconnect' as const), client: fc.nat(MAX_CLIENTS - 1) }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'tick' as const }) },
);
type Command = typeof command extends fc.Arbitrary<infer T> ? T : never;

async function run(simulation: Simulation, commands: readonly Command[]): Promise<void> {
  const count = simulation.clients.length;
  for (const step of commands) {
    simulation.throwIfFailed();
    if (step.kind === 'tick') await simulation.tick();
    else if (step.kind === 'edit')
      simulation.edit(step.client % count, step.at, step.deleteCount, step.insert);
    else if (step.kind === 'deliverSubmit') simulation.deliverSubmit(step.client % count);
    else if (step.kind === 'deliverOps') simulation.deliverOps(step.client % count, step.count);
    else if (step.kind === 'disconnect') simulation.disconnect(step.client % count);
    else simulation.reconnect(step.client % count);
  }
  await simulation.settle();
}

describe('convergence (in process, memory store)', () => {
  it('random concurrent edits with delays, reorderings and lost acks converge, each op applied exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: MAX_CLIENTS }),
        fc.array(command, { minLength: 10, maxLength: 150, size: 'max' }),
        async (clientCount, commands) => {
          const store = createMemoryDocStore({ retainOps: 200 });
          const service = createCollabService({ store });
          const observer = observeOps(service, 'doc');
          const simulation = await Simulation.start([service], 'doc', clientCount);
          try {
            await run(simulation, commands);
            const head = await service.open('doc');
            await observer.reached(head.version);

            for (const client of simulation.clients) {
              expect(client.ot.text).toBe(head.text);
              expect(client.ot.getSnapshot()).toMatchObject({
                status: 'synced',
                version: head.version,
                pendingOps: 0,
              });
            }
            expect(observer.ops.map((op) => op.version)).toEqual(
              Array.from({ length: head.version }, (_, i) => i + 1),
            );
            const committedIds = observer.ops.map((op) => op.opId);
            expect(new Set(committedIds).size).toBe(committedIds.length);
            const sentIds = new Set(simulation.clients.flatMap((client) => [...client.sentOpIds]));
            expect(new Set(committedIds)).toEqual(sentIds);
            expect(observer.ops.reduce((text, op) => textType.apply(text, op.op), '')).toBe(head.text);
          } finally {
            simulation.stop();
            observer.stop();
            await service.close();
          }
        },
      ),
      { numRuns: 60 },
    );
  }, 120_000);
});
