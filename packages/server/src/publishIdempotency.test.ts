/**
 * Idempotent publish end to end: the official `@trpc/client` over real servers, with the socket dropped
 * after the broker stored the event (the acknowledgement is lost) and the publish sent again, on the memory
 * broker and across two instances on one real Redis. The broker-level rules are in `broker/contract.ts`.
 */
import { isDeepStrictEqual } from 'node:util';
import { ErrorCode } from '@switchboard/protocol';
import { TRPCClientError } from '@trpc/client';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useCleanup } from './__tests__/lifecycle.ts';
import { type RedisServer, startRedisServer } from './__tests__/redisServer.ts';
import { connectTrpc, startTestServer, type TestServer, until } from './__tests__/testServer.ts';
import type { Broker } from './broker/broker.ts';
import { createMemoryBroker } from './broker/memory.ts';
import { createRedisBroker } from './broker/redis.ts';
import { publishFingerprint, scopedIdempotencyKey } from './publishIdempotency.ts';

const track = useCleanup();

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
}, 30_000);
afterAll(() => redis?.close());

/**
 * A broker that runs `afterStore` once an event is stored and before the publish resolves, so a test can
 * drop the author's socket exactly between "stored" and "acknowledged".
 */
function withAfterStore(inner: Broker): { broker: Broker; afterStore: { run?: () => void } } {
  const afterStore: { run?: () => void } = {};
  const broker = new Proxy(inner, {
    get(target, property) {
      if (property !== 'publish') return Reflect.get(target, property, target);
      return async (...args: Parameters<Broker['publish']>) => {
        const result = await target.publish(...args);
        const run = afterStore.run;
        afterStore.run = undefined;
        run?.();
        return result;
      };
    },
  });
  return { broker, afterStore };
}

interface Instance {
  fixture: TestServer;
  afterStore: { run?: () => void };
}

async function instance(inner: Broker): Promise<Instance> {
  const { broker, afterStore } = withAfterStore(inner);
  const fixture = track(await startTestServer({ broker }), (f) => f.close());
  return { fixture, afterStore };
}

const brokers = {
  memory: async () => {
    const shared = track(createMemoryBroker(), (b) => b.close());
    const one = await instance(shared);
    return [one, one] as const;
  },
  'Redis, retried on a second instance': async () => {
    const open = async () => {
      const broker = track(createRedisBroker({ url: redis.url }), (b) => b.close());
      await broker.ready(5000);
      return instance(broker);
    };
    return [await open(), await open()] as const;
  },
};

const errorCodes = (error: unknown) =>
  error instanceof TRPCClientError
    ? { code: error.data?.code, switchboardCode: error.data?.switchboardCode }
    : { error };

describe.each(Object.entries(brokers))('idempotent publish on %s', (_, makeInstances) => {
  it('stores a publish retried after its acknowledgement was lost once, and answers with its id', async () => {
    const [first, second] = await makeInstances();
    const channel = `chat:idem-${Date.now().toString(36)}`;
    const aliceToken = await first.fixture.sign('alice');
    const alice = track(connectTrpc(first.fixture.wsUrl, aliceToken), (c) => c.close());
    const bob = track(connectTrpc(second.fixture.wsUrl, await second.fixture.sign('bob')), (c) => c.close());
    const received: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const sub = bob.trpc.channel.subscribe.subscribe(
        { channel },
        {
          onStarted: () => resolve(),
          onError: reject,
          onData: ({ data }) => {
            if (data.type === 'message') received.push((data.payload as { text: string }).text);
          },
        },
      );
      track(sub, (s) => s.unsubscribe());
    });

    // The event is stored, then Alice's socket dies before the answer leaves.
    first.afterStore.run = () => {
      for (const connection of first.fixture.server.registry.byUser('alice')) connection.socket.terminate();
    };
    const input = { channel, type: 'message', payload: { text: 'once' }, idempotencyKey: 'send-1' };
    const lost = await alice.trpc.channel.publish.mutate(input).catch((error: unknown) => error);
    expect(lost).toBeInstanceOf(TRPCClientError);
    expect(first.afterStore.run).toBeUndefined();

    // The app sends it again once connected (on the second instance, when there is one).
    const retrying =
      second === first ? alice : track(connectTrpc(second.fixture.wsUrl, aliceToken), (c) => c.close());
    await until(() => retrying.wsClient.connectionState.get().state === 'pending', 5000, 'reconnection');
    const retried = await retrying.trpc.channel.publish.mutate(input);
    const again = await retrying.trpc.channel.publish.mutate(input);
    expect(again).toEqual(retried);

    const history = await second.fixture.server.broker.history(channel, { last: 10 });
    expect(history.recovered && history.events.map((event) => event.id)).toEqual([retried.id]);
    await bob.trpc.channel.publish.mutate({ channel, type: 'message', payload: { text: 'after' } });
    await until(() => received.includes('after'), 5000, 'the marker event');
    expect(received).toEqual(['once', 'after']);
  });

  it('refuses a key reused for another payload with CONFLICT, and keeps keys apart per author', async () => {
    const [first, second] = await makeInstances();
    const channel = `chat:idem-${Date.now().toString(36)}`;
    const alice = track(connectTrpc(first.fixture.wsUrl, await first.fixture.sign('alice')), (c) =>
      c.close(),
    );
    const bob = track(connectTrpc(second.fixture.wsUrl, await second.fixture.sign('bob')), (c) => c.close());
    const publish = (client: typeof alice, text: string) =>
      client.trpc.channel.publish.mutate({
        channel,
        type: 'message',
        payload: { text },
        idempotencyKey: 'k',
      });

    const original = await publish(alice, 'a');
    const conflict = await publish(alice, 'b').catch((error: unknown) => error);
    expect(errorCodes(conflict)).toEqual({
      code: 'CONFLICT',
      switchboardCode: ErrorCode.IDEMPOTENCY_CONFLICT,
    });
    // Another correlation id is another request too: a retry is answered with the stored event's.
    const otherCorrelation = await alice.trpc.channel.publish
      .mutate({ channel, type: 'message', payload: { text: 'a' }, idempotencyKey: 'k', correlationId: 'c2' })
      .catch((error: unknown) => error);
    expect(errorCodes(otherCorrelation)).toMatchObject({ code: 'CONFLICT' });
    // Bob's `k` is his own: neither answered with Alice's event nor refused.
    const bobs = await publish(bob, 'a');
    expect(bobs.id).not.toBe(original.id);
    // The server's keys are a scope of their own too.
    const server = await second.fixture.server.channels.publishAsServer(
      channel,
      'message',
      { text: 'a' },
      { idempotencyKey: 'k' },
    );
    expect(new Set([original.id, bobs.id, server.id]).size).toBe(3);
    expect(
      await first.fixture.server.channels.publishAsServer(
        channel,
        'message',
        { text: 'a' },
        { idempotencyKey: 'k' },
      ),
    ).toEqual(server);
    const history = await first.fixture.server.broker.history(channel, { last: 10 });
    expect(history.recovered && history.events.map((event) => event.id)).toEqual([
      original.id,
      bobs.id,
      server.id,
    ]);
  });
});

describe('publishFingerprint', () => {
  /** The same JSON value with every object's keys in reverse order. */
  const reordered = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(reordered);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(
      Object.entries(value)
        .reverse()
        .map(([key, inner]) => [key, reordered(inner)]),
    );
  };

  it('does not depend on the order of object keys, and tells payloads, types and channels apart', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (payload, other) => {
        const fingerprint = publishFingerprint('chat:a', 'message', payload);
        expect(publishFingerprint('chat:a', 'message', reordered(payload))).toBe(fingerprint);
        expect(publishFingerprint('chat:b', 'message', payload)).not.toBe(fingerprint);
        expect(publishFingerprint('chat:a', 'other', payload)).not.toBe(fingerprint);
        // Deep equality ignores key order, as the fingerprint must.
        const equal = isDeepStrictEqual(
          JSON.parse(JSON.stringify(payload)),
          JSON.parse(JSON.stringify(other)),
        );
        expect(publishFingerprint('chat:a', 'message', other) === fingerprint).toBe(equal);
      }),
      { numRuns: 200, seed: 1205 },
    );
  });

  it('keeps __proto__ keys as data', () => {
    const a = JSON.parse('{"__proto__":{"x":1}}');
    const b = JSON.parse('{"__proto__":{"x":2}}');
    expect(publishFingerprint('chat:a', 'm', a)).not.toBe(publishFingerprint('chat:a', 'm', b));
  });
});

describe('scopedIdempotencyKey', () => {
  it('gives different authors or keys different scoped keys, whatever characters they contain', () => {
    const author = fc.oneof(
      fc.constant('server' as const),
      fc.record({ userId: fc.string({ unit: 'grapheme-ascii' }) }),
    );
    fc.assert(
      fc.property(author, fc.string(), author, fc.string(), (a, keyA, b, keyB) => {
        const same = JSON.stringify(a) === JSON.stringify(b) && keyA === keyB;
        expect(scopedIdempotencyKey(a, keyA) === scopedIdempotencyKey(b, keyB)).toBe(same);
      }),
      { numRuns: 500, seed: 1206 },
    );
    expect(scopedIdempotencyKey({ userId: 'a:b' }, 'c')).not.toBe(
      scopedIdempotencyKey({ userId: 'a' }, 'b:c'),
    );
  });
});
