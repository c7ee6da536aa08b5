import { ErrorCode, isSwitchboardError, type PresenceChange } from '@switchboard/protocol';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type RedisCluster,
  type RedisServer,
  startRedisCluster,
  startRedisServer,
} from '../__tests__/redisServer.ts';
import type { BrokerStatus } from './broker.ts';
import {
  describeBroker,
  keyed,
  type MakeBrokerOptions,
  publishMany,
  recorder,
  stored,
  uniqueChannel,
  uniqueFamily,
} from './contract.ts';
import { createRedisBroker, type RedisBroker, type RedisBrokerOptions } from './redis.ts';
import { channelKeys } from './redisKeys.ts';
import { resolveRedisBrokerOptions } from './redisOptions.ts';

let redis: RedisServer;
let cluster: RedisCluster;

beforeAll(async () => {
  [redis, cluster] = await Promise.all([startRedisServer(), startRedisCluster()]);
}, 30_000);
afterAll(async () => {
  await Promise.all([redis?.close(), cluster?.close()]);
});

/** Short intervals so repairs, reconnects and expiry happen within a test. */
const fast: RedisBrokerOptions = {
  commandTimeoutMs: 1000,
  maxReconnectDelayMs: 100,
  positioningIntervalMs: 60_000,
};

const opened: RedisBroker[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((broker) => broker.close()));
});

async function open(options: RedisBrokerOptions): Promise<RedisBroker> {
  const broker = createRedisBroker({ ...fast, ...options });
  opened.push(broker);
  await broker.ready(10_000);
  return broker;
}

function nextStatus(broker: RedisBroker, wanted: BrokerStatus, timeoutMs = 10_000): Promise<void> {
  if (broker.status === wanted) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`status stayed ${broker.status}, wanted ${wanted}`)),
      timeoutMs,
    );
    const stop = broker.onStatusChange((status) => {
      if (status !== wanted) return;
      clearTimeout(timer);
      stop();
      resolve();
    });
  });
}

async function expectUnavailable(promise: Promise<unknown>, withinMs: number) {
  const startedAt = Date.now();
  const error = await promise.then(
    () => new Error('resolved, expected BROKER_UNAVAILABLE'),
    (rejected: unknown) => rejected,
  );
  expect(isSwitchboardError(error) && error.code).toBe(ErrorCode.BROKER_UNAVAILABLE);
  expect(Date.now() - startedAt).toBeLessThan(withinMs);
}

/** A pino logger whose lines a test can read. */
function capturingLogger() {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, messages: () => lines.map((line) => line.msg) };
}

/** Keys of channels named `<family>:...`, on every given server. */
async function keysOf(servers: readonly RedisServer[], family: string): Promise<string[]> {
  const lists = await Promise.all(
    servers.map((server) => server.cli('--scan', '--pattern', `sb:{${family}:*`)),
  );
  return lists.flatMap((list) => list.split('\n')).filter((key) => key !== '');
}

/** Short history ages come with a positioning round short enough to keep subscribed channels alive. */
const historyOptions = ({ historySize, historyMaxAgeMs }: MakeBrokerOptions): RedisBrokerOptions => ({
  historySize,
  historyMaxAgeMs,
  ...(historyMaxAgeMs === undefined ? {} : { positioningIntervalMs: Math.floor(historyMaxAgeMs / 4) }),
});

describeBroker('redis', (options) => open({ url: redis.url, ...historyOptions(options) }), {
  retained: async (_, family) => (await keysOf([redis], family)).length,
});
describeBroker(
  'redis cluster',
  (options) => open({ url: cluster.urls, cluster: true, ...historyOptions(options) }),
  { retained: async (_, family) => (await keysOf(cluster.nodes, family)).length },
);

describe.each([
  ['one Redis', () => ({ url: redis.url })],
  ['a 3-node cluster', () => ({ url: cluster.urls, cluster: true })],
])('redis broker on %s', (_, where) => {
  it('fans out across instances: every listener gets every event once, in order, and history spans instances', async () => {
    const brokers = await Promise.all([open(where()), open(where()), open(where())]);
    const channel = uniqueChannel();
    const listeners = brokers.map(() => recorder());
    await Promise.all(brokers.map((broker, i) => broker.subscribe(channel, listeners[i]!.listener)));
    // Three instances publish concurrently; the stream decides one order for all of them.
    const published = (await Promise.all(brokers.map((broker) => publishMany(broker, channel, 100)))).flat();
    const sequences = await Promise.all(
      listeners.map(async (listener) => (await listener.waitFor(300)).map((e) => e.id!)),
    );
    const inOrder = [...published].sort(brokers[0]!.compareIds);
    for (const sequence of sequences) expect(sequence).toEqual(inOrder);
    // A client resuming on another instance than the one that published.
    const resumed = await brokers[2]!.history(channel, { after: inOrder[149]! });
    expect(resumed.recovered && resumed.events.map((e) => e.id)).toEqual(inOrder.slice(150));
  });
});

describe('redis broker', () => {
  it('gives every key it writes a TTL', async () => {
    const broker = await open({ url: redis.url });
    const family = uniqueFamily();
    const channel = `${family}:a`;
    const unsubscribe = await broker.subscribe(channel, () => {});
    await broker.position(`${family}:looked-at`);
    await broker.publish(channel, keyed('k1', 'a'));
    await broker.presence.join(channel, { connectionId: 'c1', userId: 'u1', name: 'Ann' });
    unsubscribe();
    const keys = await keysOf([redis], family);
    expect(keys.map((key) => key.slice(key.indexOf('}') + 1)).sort()).toEqual([
      ':epoch',
      ':epoch',
      ':idem',
      ':idem-order',
      ':presence',
      ':stream',
    ]);
    for (const key of keys) expect(Number(await redis.cli('pttl', key))).toBeGreaterThan(0);
  });

  it('deduplicates across instances: racing publishes with one key store one event', async () => {
    const brokers = await Promise.all([open({ url: redis.url }), open({ url: redis.url })]);
    const channel = uniqueChannel();
    const seen = recorder();
    await brokers[1]!.subscribe(channel, seen.listener);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => brokers[i % 2]!.publish(channel, keyed('k1', { text: 'a' }))),
    );
    expect(new Set(results.map((result) => result.id)).size).toBe(1);
    expect(results.filter((result) => !result.duplicate)).toHaveLength(1);
    const [marker] = await publishMany(brokers[0]!, channel, 1);
    await seen.waitUntil((events) => events.some((event) => event.id === marker));
    expect(seen.events.map((event) => event.id)).toEqual([results[0]!.id, marker]);
  });

  it('subscribes a channel on Redis once per instance and unsubscribes with its last listener', async () => {
    const broker = await open({ url: redis.url });
    const channel = uniqueChannel();
    const numsub = async () =>
      (await redis.cli('pubsub', 'numsub', channelKeys('sb', channel).pubsub)).split('\n')[1];
    const first = await broker.subscribe(channel, () => {});
    const second = await broker.subscribe(channel, () => {});
    expect(await numsub()).toBe('1');
    first();
    expect(await numsub()).toBe('1');
    second();
    // UNSUBSCRIBE is sent without waiting; Redis confirms it a moment later.
    await expect.poll(numsub, { timeout: 2000, interval: 20 }).toBe('0');
  });

  it('repairs a lost pub/sub message from the stream as soon as the next message shows the gap', async () => {
    const publisher = await open({ url: redis.url });
    const channel = uniqueChannel();
    const arrived: string[] = [];
    const receiver = await open({
      url: redis.url,
      // Loses the third event on its way to this instance.
      dropIncomingMessage: (_, id) => arrived.push(id!) === 3,
    });
    const seen = recorder();
    await receiver.subscribe(channel, seen.listener);
    const published = await publishMany(publisher, channel, 5);
    expect((await seen.waitFor(5)).map((e) => e.id)).toEqual(published);
    expect(arrived[2]).toBe(published[2]);
  });

  it('repairs a lost last message by positioning against the stream head', async () => {
    const publisher = await open({ url: redis.url });
    const channel = uniqueChannel();
    let drop: string | undefined;
    const receiver = await open({
      url: redis.url,
      positioningIntervalMs: 100,
      dropIncomingMessage: (_, id) => id === drop,
    });
    const seen = recorder();
    await receiver.subscribe(channel, seen.listener);
    const [first] = await publishMany(publisher, channel, 1);
    await seen.waitFor(1);
    // Nothing follows the dropped message to reveal the gap: only positioning can find it.
    drop = (await publisher.publish(channel, stored('n', 'last'))).id;
    expect((await seen.waitFor(2)).map((e) => e.id)).toEqual([first, drop]);
  });

  it('loses nothing when its subscriber connection drops while another instance publishes', async () => {
    const receiver = await open({ url: redis.url, instanceId: `recv${process.pid}` });
    const publisher = await open({ url: redis.url });
    const channel = uniqueChannel();
    const seen = recorder();
    await receiver.subscribe(channel, seen.listener);
    const publishing = publishMany(publisher, channel, 200);
    const clients = await redis.cli('client', 'list');
    const subscriberId = /id=(\d+) [^\n]*name=sb-recv\d+-sub /.exec(clients)?.[1];
    expect(subscriberId).toBeDefined();
    await redis.cli('client', 'kill', 'id', subscriberId!);
    const published = await publishing;
    expect((await seen.waitFor(200)).map((e) => e.id)).toEqual(published);
  });

  it('survives kill -9 and restart of Redis: publishes fail loudly meanwhile, then subscriptions and presence come back', async () => {
    const own = await startRedisServer();
    try {
      const logs = capturingLogger();
      const a = await open({
        url: own.url,
        logger: logs.logger,
        presenceTtlMs: 1500,
        presenceSweepIntervalMs: 500,
      });
      const b = await open({ url: own.url });
      const channel = uniqueChannel();
      const seenA = recorder();
      const seenB = recorder();
      await a.subscribe(channel, seenA.listener);
      await b.subscribe(channel, seenB.listener);
      await a.presence.join(channel, { connectionId: 'c1', userId: 'u1', name: 'Ann' });
      const before = await publishMany(a, channel, 10);
      await seenB.waitFor(10);

      await own.kill();
      await nextStatus(a, 'unavailable');
      await expectUnavailable(a.publish(channel, stored('n', 'during')), 1500);
      await expectUnavailable(b.publish(channel, stored('n', 'during')), 1500);
      await expectUnavailable(a.history(channel, { last: 5 }), 1500);

      await own.restart();
      await Promise.all([nextStatus(a, 'ready'), nextStatus(b, 'ready')]);
      const after = await publishMany(a, channel, 20);
      expect((await seenA.waitFor(30)).map((e) => e.id)).toEqual([...before, ...after]);
      expect((await seenB.waitFor(30)).map((e) => e.id)).toEqual([...before, ...after]);
      // Redis lost the stream (no persistence): the old ids belong to a finished epoch.
      expect(await b.history(channel, { after: before[9]! })).toEqual({
        recovered: false,
        reason: 'epoch-changed',
      });
      // Redis lost the presence hash too; the owning instance writes its entries again.
      await expect
        .poll(() => b.presence.list(channel), { timeout: 3000, interval: 50 })
        .toEqual([{ userId: 'u1', name: 'Ann', connections: 1 }]);
      const messages = logs.messages();
      expect(messages.filter((msg) => msg === 'redis broker unavailable')).toHaveLength(1);
      expect(messages.filter((msg) => msg === 'redis broker recovered')).toHaveLength(1);
    } finally {
      await own.close();
    }
  }, 30_000);

  it('survives Redis stopped for 5 s (SIGSTOP): publishes reject within the timeout and never appear later', async () => {
    const own = await startRedisServer();
    try {
      const options = { url: own.url, commandTimeoutMs: 500 };
      const publisher = await open(options);
      const receiver = await open(options);
      const channel = uniqueChannel();
      const seen = recorder();
      await receiver.subscribe(channel, seen.listener);
      const before = await publishMany(publisher, channel, 5);
      await seen.waitFor(5);

      own.pause();
      const stoppedAt = Date.now();
      for (let i = 0; i < 3; i++)
        await expectUnavailable(publisher.publish(channel, stored('rejected', i)), 1500);
      expect(publisher.status).toBe('unavailable');
      // The scenario is a 5 s stall: hold it for the rest of that time.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 5000 - (Date.now() - stoppedAt))));
      own.resume();
      const recoveredAt = Date.now();

      await nextStatus(publisher, 'ready');
      const after = await publishMany(publisher, channel, 5);
      await seen.waitFor(10);
      expect(Date.now() - recoveredAt).toBeLessThan(3000);
      // The three rejected publishes reached Redis after SIGCONT and were refused there.
      expect(seen.events.map((e) => e.id)).toEqual([...before, ...after]);
      const history = await receiver.history(channel, { last: 100 });
      expect(history.recovered && history.events.map((e) => e.type)).toEqual(Array(10).fill('n'));
    } finally {
      own.resume();
      await own.close();
    }
  }, 30_000);

  it('expires the presence of an instance that stops refreshing and reports its leave once', async () => {
    const options = { url: redis.url, presenceTtlMs: 600, presenceSweepIntervalMs: 100 };
    const dying = await open(options);
    const staying = await open(options);
    const watching = await open(options);
    const channel = uniqueChannel();
    const leaves: PresenceChange[] = [];
    let reported: () => void = () => {};
    const firstLeave = new Promise<void>((resolve) => {
      reported = resolve;
    });
    for (const broker of [staying, watching]) {
      broker.presence.onExpired((expiredChannel, change) => {
        expect(expiredChannel).toBe(channel);
        leaves.push(change);
        reported();
      });
    }
    await watching.subscribe(channel, () => {});
    await dying.presence.join(channel, { connectionId: 'c1', userId: 'u1', name: 'Ann', meta: { n: 1 } });
    await staying.presence.join(channel, { connectionId: 'c2', userId: 'u2', name: 'Bob' });
    // Alive instances keep their entries past the TTL by rewriting them.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await watching.presence.list(channel)).toHaveLength(2);
    expect(leaves).toEqual([]);

    // A crash: no leave, no cleanup; close() keeps the entries (they expire).
    const closedAt = Date.now();
    await dying.close();
    await firstLeave;
    expect(Date.now() - closedAt).toBeLessThan(2000);
    expect(await watching.presence.list(channel)).toEqual([{ userId: 'u2', name: 'Bob', connections: 1 }]);
    // Every instance sweeps; the sweep is atomic, so the leave is reported by one of them only.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(leaves).toEqual([
      { action: 'leave', member: { userId: 'u1', name: 'Ann', connections: 0, meta: { n: 1 } } },
    ]);
  });

  it("reports an update with the new count when an expired instance held one of a member's tabs (found by a breaker)", async () => {
    const options = { url: redis.url, presenceTtlMs: 600, presenceSweepIntervalMs: 100 };
    const dying = await open(options);
    const staying = await open(options);
    const channel = uniqueChannel();
    const changes: PresenceChange[] = [];
    staying.presence.onExpired((_channel, change) => changes.push(change));
    await staying.subscribe(channel, () => {});
    await dying.presence.join(channel, { connectionId: 'c1', userId: 'u1', name: 'Ann', meta: { tab: 1 } });
    await staying.presence.join(channel, { connectionId: 'c2', userId: 'u1', name: 'Ann', meta: { tab: 2 } });
    await dying.close();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // What watchers are told matches what presence() answers: Ann stays, with one connection.
    const listed = await staying.presence.list(channel);
    expect(listed).toEqual([{ userId: 'u1', name: 'Ann', connections: 1, meta: { tab: 2 } }]);
    expect(changes).toEqual([{ action: 'update', member: listed[0] }]);
  });

  it('fails calls within the command timeout while Redis cannot be reached at all', async () => {
    const nowhere = await startRedisServer();
    const url = nowhere.url;
    await nowhere.close();
    const broker = createRedisBroker({ ...fast, url, commandTimeoutMs: 300 });
    opened.push(broker);
    await expectUnavailable(broker.publish(uniqueChannel(), stored('n')), 1000);
    await expectUnavailable(
      broker.subscribe(uniqueChannel(), () => {}),
      1000,
    );
    await expectUnavailable(broker.presence.list(uniqueChannel()), 1000);
    expect(broker.status).toBe('unavailable');
    await broker.close();
    expect(broker.status).toBe('closed');
  });

  it('rejects bad option combinations with a message that names the fix', () => {
    expect(() => resolveRedisBrokerOptions({ presenceTtlMs: 1000, presenceSweepIntervalMs: 1000 })).toThrow(
      /presenceSweepIntervalMs/,
    );
    expect(() => resolveRedisBrokerOptions({ historySize: -1 })).toThrow(/historySize/);
    expect(() => resolveRedisBrokerOptions({ url: ['redis://a:1', 'redis://b:2'] })).toThrow(/cluster: true/);
    expect(() => resolveRedisBrokerOptions({ keyPrefix: 'a{b}' })).toThrow(/keyPrefix/);
    expect(() => resolveRedisBrokerOptions({ commandTimeoutMs: 0 })).toThrow(/commandTimeoutMs/);
    expect(() => resolveRedisBrokerOptions({ historyMaxAgeMs: 0 })).toThrow(/historyMaxAgeMs/);
    expect(() => resolveRedisBrokerOptions({ historyMaxAgeMs: 2000, positioningIntervalMs: 3000 })).toThrow(
      /positioningIntervalMs \(3000\) must not exceed historyMaxAgeMs/,
    );
  });
});
