/**
 * Memory-leak test in the spirit of tRPC's websocket memory test: many subscribe/unsubscribe and
 * connect/disconnect cycles against a live server, then the heap after a full GC must be back within a small
 * margin of where it started. Server and clients share this process, so the margin covers both.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connectRaw, startTestServer, type TestServer, until } from './__tests__/testServer.ts';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Allowed heap growth after the cycles, in bytes. */
const HEAP_MARGIN_BYTES = 8 * 1024 * 1024;

function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

let fixture: TestServer;
let token: string;
beforeAll(async () => {
  fixture = await startTestServer({
    rateLimitPerSecond: 1e6,
    rateLimitBurst: 1e6,
    maxConnections: 1e6,
    // One user opens 50 at a time; its previous batch may still be closing on the server side.
    maxConnectionsPerUser: 1e6,
  });
  token = await fixture.sign('cycler');
});
afterAll(() => fixture.close());

describe('memory', () => {
  it('100,000 subscribe/unsubscribe cycles leave the heap where it was', async () => {
    const socket = await connectRaw(fixture.wsUrl, token);
    let started = 0;
    socket.on('message', (data) => {
      if (data.toString().includes('"started"')) started++;
    });
    const CYCLES = 100_000;
    const PER_FRAME = 25;
    const cycle = async (from: number) => {
      const frames: string[] = [];
      for (let id = from; id < from + PER_FRAME; id++) {
        frames.push(
          JSON.stringify({
            id,
            method: 'subscription',
            params: { path: 'channel.subscribe', input: { json: { channel: `chat:leak-${id % 10}` } } },
          }),
        );
      }
      socket.send(`[${frames.join(',')}]`);
      await until(() => started >= from - 1 + PER_FRAME, 10_000, 'subscriptions started');
      const stops = [];
      for (let id = from; id < from + PER_FRAME; id++)
        stops.push(JSON.stringify({ id, method: 'subscription.stop' }));
      socket.send(`[${stops.join(',')}]`);
    };
    // Warm up JIT, pools and maps before the baseline.
    let id = 1;
    for (; id <= 2000; id += PER_FRAME) await cycle(id);
    await until(() => fixture.server.metrics.stats.subscriptions === 0);
    const before = heapAfterGc();
    for (; id <= CYCLES + 2000; id += PER_FRAME) await cycle(id);
    await until(() => fixture.server.metrics.stats.subscriptions === 0, 10_000, 'all unsubscribed');
    const after = heapAfterGc();
    console.info(
      `subscribe/unsubscribe: ${CYCLES} cycles, heap ${(before / 1e6).toFixed(1)} MB -> ${(after / 1e6).toFixed(1)} MB`,
    );
    expect(after - before).toBeLessThan(HEAP_MARGIN_BYTES);
    socket.close();
  }, 180_000);

  it('10,000 connect/disconnect cycles leave the heap where it was', async () => {
    const CYCLES = 10_000;
    const CONCURRENCY = 50;
    const cycleBatch = async () => {
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          const socket = new WebSocket(`${fixture.wsUrl}?token=${token}`);
          await new Promise((resolve, reject) => {
            socket.once('open', resolve);
            socket.once('error', reject);
          });
          socket.send(
            JSON.stringify({
              id: 1,
              method: 'subscription',
              params: { path: 'channel.subscribe', input: { json: { channel: 'chat:lobby' } } },
            }),
          );
          await new Promise((resolve) => socket.once('message', resolve));
          const closed = new Promise((resolve) => socket.once('close', resolve));
          socket.close();
          await closed;
        }),
      );
    };
    for (let i = 0; i < 1000; i += CONCURRENCY) await cycleBatch();
    await until(() => fixture.server.registry.size === 0);
    const before = heapAfterGc();
    for (let i = 0; i < CYCLES; i += CONCURRENCY) await cycleBatch();
    await until(
      () => fixture.server.registry.size === 0 && fixture.server.metrics.stats.subscriptions === 0,
      10_000,
    );
    const after = heapAfterGc();
    console.info(
      `connect/disconnect: ${CYCLES} cycles, heap ${(before / 1e6).toFixed(1)} MB -> ${(after / 1e6).toFixed(1)} MB`,
    );
    expect(after - before).toBeLessThan(HEAP_MARGIN_BYTES);
    expect(await fixture.server.broker.presence.list('chat:lobby')).toEqual([]);
  }, 180_000);
});
