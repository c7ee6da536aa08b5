import { type RedisServer, startRedisServer } from '@switchboard/server/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCollabService } from './collabService.ts';
import { describeDocStore } from './docStoreContract.ts';
import { createRedisDocStore } from './redisDocStore.ts';

let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.close();
});

describeDocStore('redis', (options) => createRedisDocStore({ redis: server.url, ...options }));

describe('createRedisDocStore', () => {
  it('keeps a document in hash-tagged keys, so one cluster slot holds all of it', async () => {
    const store = createRedisDocStore({ redis: server.url });
    const inspect = new Redis(server.url);
    try {
      await store.commit('tagged', { version: 1, op: ['x'], opId: 'id1', userId: 'u' }, 'x');
      expect((await inspect.keys('collab:{tagged}:*')).sort()).toEqual([
        'collab:{tagged}:head',
        'collab:{tagged}:log',
        'collab:{tagged}:opkeys',
      ]);
    } finally {
      await store.close();
      await inspect.quit();
    }
  });

  it('writes nothing for reads of unknown documents, and gives every key of an edited one a TTL', async () => {
    const store = createRedisDocStore({ redis: server.url, documentTtlMs: 60_000 });
    const service = createCollabService({ store });
    const inspect = new Redis(server.url);
    try {
      for (let i = 0; i < 50; i++) {
        const docId = `read-only-${i}`;
        await service.open(docId);
        const abort = new AbortController();
        const iterator = (await service.ops({ docId, fromVersion: 0, signal: abort.signal }))[
          Symbol.asyncIterator
        ]();
        const next = iterator.next();
        abort.abort();
        await next;
      }
      expect(await inspect.keys('collab:{read-only-*')).toEqual([]);
      await service.submit({ docId: 'ttl', version: 0, op: ['x'], opId: 'a', userId: 'u' });
      const keys = await inspect.keys('collab:{ttl}:*');
      expect(keys).toHaveLength(3);
      for (const key of keys) {
        const ttl = await inspect.pttl(key);
        expect(ttl, key).toBeGreaterThan(0);
        expect(ttl, key).toBeLessThanOrEqual(60_000);
      }
    } finally {
      await service.close();
      await store.close();
      await inspect.quit();
    }
  });

  it('leaves a client it was given open on close', async () => {
    const redis = new Redis(server.url);
    const store = createRedisDocStore({ redis });
    await store.subscribe('open-client', { onOp() {} });
    await store.close();
    expect(await redis.ping()).toBe('PONG');
    await redis.quit();
  });

  it('tells subscribers to resync after the pub/sub connection comes back', async () => {
    const store = createRedisDocStore({ redis: server.url });
    const admin = new Redis(server.url);
    try {
      let resynced: () => void = () => {};
      const resync = new Promise<void>((resolve) => {
        resynced = resolve;
      });
      await store.subscribe('resync', { onOp() {}, onResync: () => resynced() });
      await admin.client('KILL', 'TYPE', 'pubsub');
      await resync;
    } finally {
      await store.close();
      await admin.quit();
    }
  });
});
