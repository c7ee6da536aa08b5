/**
 * Collaborative editing over real sockets: OT clients on the official @trpc/client against the demo server,
 * in one process (memory store) and across two instances on one Redis, including a crash mid-edit.
 */
import { seededRandom, startRedisServer } from '@switchboard/server/testing';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { waitFor } from './__tests__/channelClient.ts';
import { type CollabTestClient, openCollabClient } from './__tests__/collabClient.ts';
import { CLUSTER_SECRET, signToken, startServerProcess } from './__tests__/serverProcess.ts';
import { readConfig } from './config.ts';
import { startDemoServer } from './index.ts';

const settled = (clients: CollabTestClient[], version: () => number) => () =>
  clients.every((c) => {
    const snapshot = c.ot.getSnapshot();
    return snapshot.status === 'synced' && snapshot.pendingOps === 0 && snapshot.version === version();
  });

/** Every submitted op committed exactly once, versions 1..n in order on every client's stream. */
function expectExactlyOnce(clients: CollabTestClient[], finalVersion: number) {
  const submitted = new Set(clients.flatMap((c) => [...c.submitted]));
  for (const client of clients) {
    const versions = client.received.map((op) => op.version);
    expect(new Set(versions).size).toBe(versions.length);
    const committedIds = client.received.map((op) => op.opId);
    expect(new Set(committedIds).size).toBe(committedIds.length);
  }
  const all = clients[0]!.received;
  expect(all.map((op) => op.version)).toEqual(Array.from({ length: finalVersion }, (_, i) => i + 1));
  expect(new Set(all.map((op) => op.opId))).toEqual(submitted);
}

describe('collab over real sockets', () => {
  it.each([1, 2, 3])(
    'converges with 4 clients editing concurrently (seed %i)',
    async (seed) => {
      const demo = await startDemoServer(readConfig({ PORT: '0', AUTH_SECRET: CLUSTER_SECRET }), {
        logger: pino({ level: 'silent' }),
        rateLimitPerSecond: 10_000,
        rateLimitBurst: 10_000,
      });
      const docId = `doc-${seed}`;
      const url = () => `${demo.url.replace('http', 'ws')}/ws`;
      const clients = await Promise.all(
        [0, 1, 2, 3].map(async (i) => openCollabClient({ url, token: await signToken(`w${i}`), docId })),
      );
      try {
        const random = seededRandom(seed);
        for (let round = 0; round < 40; round++) {
          clients[Math.floor(random() * clients.length)]!.edit(random);
          if (random() < 0.3) await new Promise((resolve) => setTimeout(resolve, random() * 5));
        }
        let serverVersion = 0;
        await waitFor(
          () => {
            serverVersion = Math.max(...clients.map((c) => c.received.at(-1)?.version ?? 0));
            return settled(clients, () => serverVersion)();
          },
          15_000,
          'all clients synced',
        );
        // What a newcomer opens is the server's document.
        const probe = await openCollabClient({ url, token: await signToken('probe'), docId });
        probe.close();
        expect(probe.ot.version).toBe(serverVersion);
        for (const client of clients) expect(client.ot.text).toBe(probe.ot.text);
        expectExactlyOnce(clients, serverVersion);
      } finally {
        for (const c of clients) c.close();
        await demo.close();
      }
    },
    30_000,
  );
});

describe('collab across two instances on one Redis', () => {
  it('converges with clients on both, versions strictly sequential, even when one instance is killed mid-edit', async () => {
    const redis = await startRedisServer();
    const env = { REDIS_URL: redis.url, RATE_LIMIT_PER_SECOND: '10000', RATE_LIMIT_BURST: '10000' };
    const [a, b] = [await startServerProcess(env), await startServerProcess(env)];
    const docId = 'shared-doc';
    const clients: CollabTestClient[] = [];
    try {
      for (let i = 0; i < 4; i++) {
        // Clients of instance A move to B when A dies, as a load balancer would send them.
        let first = true;
        const home = i % 2 === 0 ? a : b;
        const url = () => {
          const chosen = first || home === b ? home.wsUrl : b.wsUrl;
          first = false;
          return chosen;
        };
        clients.push(await openCollabClient({ url, token: await signToken(`m${i}`), docId }));
      }
      const random = seededRandom(42);
      for (let round = 0; round < 60; round++) {
        clients[Math.floor(random() * clients.length)]!.edit(random);
        if (round === 30) await a.kill();
        if (random() < 0.3) await new Promise((resolve) => setTimeout(resolve, random() * 10));
      }
      let version = 0;
      await waitFor(
        () => {
          version = Math.max(...clients.map((c) => c.received.at(-1)?.version ?? 0));
          return settled(clients, () => version)();
        },
        30_000,
        'all clients synced after failover',
      );
      const probe = await openCollabClient({ url: () => b.wsUrl, token: await signToken('probe'), docId });
      probe.close();
      expect(probe.ot.version).toBe(version);
      for (const client of clients) expect(client.ot.text).toBe(probe.ot.text);
      // Each client's stream, deduplicated by version, is 1..n with one op id per version.
      const byVersion = new Map<number, string>();
      for (const client of clients) {
        for (const op of client.received) {
          const seen = byVersion.get(op.version);
          expect(seen === undefined || seen === op.opId).toBe(true);
          byVersion.set(op.version, op.opId);
        }
      }
      expect([...byVersion.keys()].sort((x, y) => x - y)).toEqual(
        Array.from({ length: version }, (_, i) => i + 1),
      );
      const submitted = new Set(clients.flatMap((c) => [...c.submitted]));
      expect(new Set(byVersion.values())).toEqual(submitted);
      expect(byVersion.size).toBe(submitted.size);
    } finally {
      for (const c of clients) c.close();
      await Promise.all([a.kill(), b.kill()]);
      await redis.close();
    }
  }, 60_000);
});
