import { type RedisServer, startRedisServer } from '@switchboard/server/testing';
import fc from 'fast-check';
import { type as textType } from 'ot-text-unicode';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { observeOps, Simulation } from './__tests__/simulation.ts';
import { type CollabService, createCollabService } from './server/collabService.ts';
import type { DocStore } from './server/docStore.ts';
import { createRedisDocStore } from './server/redisDocStore.ts';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.close();
});

const stores: DocStore[] = [];
const services: CollabService[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((service) => service.close()));
  await Promise.all(stores.splice(0).map((store) => store.close()));
});

/** Two collab instances, each with its own store and Redis connections, on the same Redis. */
function twoInstances(): [CollabService, CollabService] {
  const make = () => {
    const store = createRedisDocStore({ redis: redis.url, retainOps: 500 });
    const service = createCollabService({ store });
    stores.push(store);
    services.push(service);
    return service;
  };
  return [make(), make()];
}

let docCounter = 0;
const newDocId = () => `doc-${++docCounter}`;

describe('two instances on one Redis', () => {
  it('concurrent submits from both get strictly sequential versions and the same final text everywhere', async () => {
    const [a, b] = twoInstances();
    const docId = newDocId();
    const observers = [observeOps(a, docId), observeOps(b, docId)];
    const submits = Array.from({ length: 40 }, (_, i) =>
      (i % 2 ? b : a).submit({ docId, version: 0, op: [`<${i}>`], opId: `op${i}`, userId: `u${i % 2}` }),
    );
    const versions = (await Promise.all(submits)).map((result) => result.version);
    expect([...versions].sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));

    const [openA, openB] = await Promise.all([a.open(docId), b.open(docId)]);
    expect(openA).toEqual(openB);
    expect(openA.version).toBe(40);
    for (let i = 0; i < 40; i++) expect(openA.text).toContain(`<${i}>`);
    await Promise.all(observers.map((observer) => observer.reached(40)));
    for (const observer of observers) {
      expect(observer.ops.map((op) => op.version)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      expect(observer.ops.reduce((text, op) => textType.apply(text, op.op), '')).toBe(openA.text);
      observer.stop();
    }
    expect(observers[0]!.ops).toEqual(observers[1]!.ops);
  });

  it('clients on both instances converge under random edits, delays and lost acks, each op applied once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            client: fc.nat(3),
            action: fc.constantFrom(
              'edit',
              'edit',
              'deliverSubmit',
              'deliverOps',
              'disconnect',
              'reconnect',
              'tick',
            ),
            at: fc.double({ min: 0, max: 1, noNaN: true }),
            insert: fc.constantFrom('a', '😀', 'e\u0301', '👍🏽', 'xy'),
          }),
          { minLength: 10, maxLength: 60, size: 'max' },
        ),
        async (steps) => {
          const instances = twoInstances();
          const docId = newDocId();
          const observer = observeOps(instances[0], docId);
          const simulation = await Simulation.start(instances, docId, 4);
          try {
            for (const step of steps) {
              simulation.throwIfFailed();
              if (step.action === 'edit') simulation.edit(step.client, step.at, 1, step.insert);
              else if (step.action === 'deliverSubmit') simulation.deliverSubmit(step.client);
              else if (step.action === 'deliverOps') simulation.deliverOps(step.client, 2);
              else if (step.action === 'disconnect') simulation.disconnect(step.client);
              // Reconnect to either instance, as a load balancer might.
              else if (step.action === 'reconnect') simulation.reconnect(step.client, step.at < 0.5 ? 0 : 1);
              else await simulation.tick();
            }
            await simulation.settle();
            const head = await instances[1].open(docId);
            expect(await instances[0].open(docId)).toEqual(head);
            for (const client of simulation.clients) expect(client.ot.text).toBe(head.text);
            await observer.reached(head.version);
            const ids = observer.ops.map((op) => op.opId);
            expect(observer.ops.map((op) => op.version)).toEqual(
              Array.from({ length: head.version }, (_, i) => i + 1),
            );
            expect(new Set(ids).size).toBe(ids.length);
            expect(new Set(ids)).toEqual(
              new Set(simulation.clients.flatMap((client) => [...client.sentOpIds])),
            );
          } finally {
            simulation.stop();
            observer.stop();
          }
        },
      ),
      { numRuns: 12 },
    );
  }, 120_000);

  it('a reconnect mid-edit to the other instance resends the op whose ack was lost, and it is applied once', async () => {
    const instances = twoInstances();
    const docId = newDocId();
    const observer = observeOps(instances[1], docId);
    const simulation = await Simulation.start(instances, docId, 2);
    simulation.edit(0, 0, 0, 'hello');
    simulation.deliverSubmit(0);
    // The op reaches instance 0 and is committed...
    await observer.reached(1);
    // ...but the connection drops before the ack (the op on the stream) reaches the client.
    simulation.disconnect(0);
    const inflight = simulation.clients[0]!.ot.getSnapshot().inflightOpId;
    expect(inflight).toBeDefined();
    // Offline edits queue up behind it.
    simulation.edit(0, 1, 0, ' 😀');
    simulation.edit(1, 0, 0, '>');
    simulation.reconnect(0, 1);
    await simulation.settle();

    const head = await instances[0].open(docId);
    expect(head.text).toBe('>hello 😀');
    expect(simulation.clients.map((client) => client.ot.text)).toEqual([head.text, head.text]);
    await observer.reached(head.version);
    expect(observer.ops.filter((op) => op.opId === inflight)).toHaveLength(1);
    expect(observer.ops.map((op) => op.version)).toEqual(
      Array.from({ length: head.version }, (_, i) => i + 1),
    );
    simulation.stop();
    observer.stop();
  });
});
