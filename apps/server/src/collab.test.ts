/**
 * Collaborative editing over real sockets: OT clients on the official @trpc/client against the demo server,
 * in one process (memory store) and across two instances on one Redis, including a crash mid-edit.
 */

import { transformer } from '@switchboard/protocol';
import { seededRandom, startRedisServer } from '@switchboard/server/testing';
import { createTRPCClient, createWSClient, TRPCClientError, wsLink } from '@trpc/client';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { waitFor } from './__tests__/channelClient.ts';
import { type CollabTestClient, openCollabClient } from './__tests__/collabClient.ts';
import { CLUSTER_SECRET, signToken, startServerProcess } from './__tests__/serverProcess.ts';
import { readConfig } from './config.ts';
import { type AppRouter, startDemoServer } from './index.ts';

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
        [0, 1, 2, 3].map(async (i) =>
          openCollabClient({ url, token: await signToken(`w${i}`), userId: `w${i}`, docId }),
        ),
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
        clients.push(
          await openCollabClient({ url, token: await signToken(`m${i}`), userId: `m${i}`, docId }),
        );
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
      // Each client's stream is contiguous, without a duplicate even across the failover: @trpc/client
      // resumed it after the last op received (tracked ids), not from the version it was opened at.
      for (const client of clients) {
        const versions = client.received.map((op) => op.version);
        expect(versions).toEqual(
          Array.from({ length: versions.length }, (_, i) => version - versions.length + i + 1),
        );
      }
      // Across clients, 1..n with one op id per version.
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

describe('collab procedures over the wire (demo server, memory store)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function startDemo() {
    const demo = await startDemoServer(readConfig({ PORT: '0', AUTH_SECRET: CLUSTER_SECRET }), {
      logger: pino({ level: 'silent' }),
      rateLimitPerSecond: 10_000,
      rateLimitBurst: 10_000,
    });
    cleanups.push(() => demo.close());
    const url = () => `${demo.url.replace('http', 'ws')}/ws`;
    /** An official tRPC client signed in as `userId`. */
    const trpcAs = async (userId: string) => {
      const token = await signToken(userId);
      const wsClient = createWSClient({
        url: () => `${url()}?token=${token}`,
        WebSocket: WebSocket as never,
      });
      cleanups.push(() => wsClient.close());
      return createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient, transformer })] });
    };
    return { demo, url, trpcAs };
  }

  /** The error a subscription reports first (it must report one, not data). */
  function subscriptionError(
    subscribe: (handlers: { onData: () => void; onError: (e: unknown) => void }) => { unsubscribe(): void },
  ) {
    return new Promise<unknown>((resolve, reject) => {
      const subscription = subscribe({
        onData: () => reject(new Error('expected an error, got data')),
        onError: (error) => {
          subscription.unsubscribe();
          resolve(error);
        },
      });
    });
  }

  function expectCode(error: unknown, trpcCode: string, switchboardCode: string, message: RegExp) {
    expect(error).toBeInstanceOf(TRPCClientError);
    const data = (error as TRPCClientError<AppRouter>).data as { code?: string; switchboardCode?: string };
    expect({ code: data?.code, switchboardCode: data?.switchboardCode }).toEqual({
      code: trpcCode,
      switchboardCode,
    });
    expect((error as Error).message).toMatch(message);
  }

  it('answers collab.ops from a version beyond the document with BAD_REQUEST, not INTERNAL_SERVER_ERROR', async () => {
    const { trpcAs } = await startDemo();
    const trpc = await trpcAs('alice');
    await trpc.collab.submit.mutate({ docId: 'ahead', version: 0, op: ['abc'], opId: 'a1' });
    const error = await subscriptionError((handlers) =>
      trpc.collab.ops.subscribe({ docId: 'ahead', fromVersion: 5 }, handlers),
    );
    expectCode(error, 'BAD_REQUEST', 'BAD_REQUEST', /version 5 is ahead of the document \(at 1\)/);
    // A forged lastEventId is checked the same way.
    const forged = await subscriptionError((handlers) =>
      trpc.collab.ops.subscribe({ docId: 'ahead', fromVersion: 0, lastEventId: '9' }, handlers),
    );
    expectCode(forged, 'BAD_REQUEST', 'BAD_REQUEST', /version 9 is ahead/);
    // Reading an unknown document creates nothing: it is still version 0 and the ops stream agrees.
    expect(await trpc.collab.open.query({ docId: 'never-written' })).toEqual({ version: 0, text: '' });
    const unknown = await subscriptionError((handlers) =>
      trpc.collab.ops.subscribe({ docId: 'never-written', fromVersion: 1 }, handlers),
    );
    expectCode(unknown, 'BAD_REQUEST', 'BAD_REQUEST', /ahead of the document \(at 0\)/);
  });

  it("scopes op ids to their author: another user's same id is another op; a reused id for another op is a CONFLICT", async () => {
    const { trpcAs } = await startDemo();
    const [alice, mallory] = [await trpcAs('alice'), await trpcAs('mallory')];
    const docId = 'op-ids';
    expect(await alice.collab.submit.mutate({ docId, version: 0, op: ['hello'], opId: 'x' })).toEqual({
      version: 1,
    });
    // Mallory replays Alice's op id with her own edit: committed as Mallory's, Alice's op untouched.
    expect(await mallory.collab.submit.mutate({ docId, version: 1, op: [5, '!'], opId: 'x' })).toEqual({
      version: 2,
    });
    // Alice's retry of the same op is acknowledged; another op under her id is refused, not dropped silently.
    expect(await alice.collab.submit.mutate({ docId, version: 0, op: ['hello'], opId: 'x' })).toEqual({
      version: 1,
    });
    const conflict = await alice.collab.submit.mutate({ docId, version: 2, op: [6, '?'], opId: 'x' }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expectCode(conflict, 'CONFLICT', 'IDEMPOTENCY_CONFLICT', /another op/);
    expect(await alice.collab.open.query({ docId })).toEqual({ version: 2, text: 'hello!' });
  });

  it('resumes collab.ops after the last op received when the socket drops (tracked ids), not from fromVersion', async () => {
    const { demo, url, trpcAs } = await startDemo();
    const docId = 'resume';
    const reader = await openCollabClient({ url, token: await signToken('reader'), userId: 'reader', docId });
    cleanups.push(() => reader.close());
    const writer = await trpcAs('writer');
    for (let version = 0; version < 3; version++) {
      await writer.collab.submit.mutate({ docId, version, op: [String(version)], opId: `w${version}` });
    }
    await waitFor(() => reader.ot.version === 3, 5_000, 'reader at version 3');
    for (const connection of demo.server.registry.all()) {
      if (connection.user.userId === 'reader') connection.socket.terminate();
    }
    for (let version = 3; version < 5; version++) {
      await writer.collab.submit.mutate({ docId, version, op: [String(version)], opId: `w${version}` });
    }
    await waitFor(() => reader.ot.version === 5, 10_000, 'reader at version 5 after the reconnect');
    // Before: the resubscription restarted from fromVersion 0 and sent 1, 2, 3 again.
    expect(reader.received.map((op) => op.version)).toEqual([1, 2, 3, 4, 5]);
    expect(reader.ot.text).toBe('43210');
  });
});
