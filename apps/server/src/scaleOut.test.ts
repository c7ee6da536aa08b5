/**
 * Horizontal scaling on real processes: several demo-server instances on one real Redis (and a 3-node Redis
 * Cluster), clients on the official @trpc/client spread across them.
 */
import { startRedisCluster } from '@switchboard/server/testing';
import { describe, expect, it } from 'vitest';
import {
  assertOrderedUnique,
  type ChannelClient,
  createRecordingClient,
  textsOf,
  waitFor,
} from './__tests__/channelClient.ts';
import { startNginx } from './__tests__/nginx.ts';
import { TEST_LIMITS, useInstancesOnRedis } from './__tests__/redisCluster.ts';
import { type ServerProcess, signToken, startServerProcess } from './__tests__/serverProcess.ts';

const instances = useInstancesOnRedis(3);
const { servers } = instances;
const client = instances.client;

/** Publishes `count` messages from each publisher concurrently; returns the texts each one sent, in order. */
async function publishConcurrently(
  publishers: ChannelClient[],
  channel: string,
  count: number,
): Promise<string[][]> {
  return Promise.all(
    publishers.map(async (publisher, p) => {
      const sent: string[] = [];
      for (let n = 0; n < count; n++) {
        const text = `p${p}-${n}`;
        await publisher.trpc.channel.publish.mutate({ channel, type: 'message', payload: { text } });
        sent.push(text);
      }
      return sent;
    }),
  );
}

/** Every subscriber got every event exactly once, all in the same (stream) order, each publisher's order kept. */
function expectSameCompleteSequence(subscribers: ChannelClient[], sent: string[][]) {
  const total = sent.reduce((sum, s) => sum + s.length, 0);
  const reference = textsOf(subscribers[0]!);
  expect(reference).toHaveLength(total);
  for (const subscriber of subscribers) {
    assertOrderedUnique(subscriber.events);
    expect(textsOf(subscriber)).toEqual(reference);
    expect(subscriber.gaps).toEqual([]);
  }
  for (const own of sent) expect(reference.filter((text) => own.includes(text))).toEqual(own);
}

describe.each([2, 3])('%i instances on one Redis', (instanceCount) => {
  it('deliver 1,000 events published concurrently from every instance to every client exactly once, in order', async () => {
    const channel = `chat:fanout-${instanceCount}`;
    const used = servers.slice(0, instanceCount);
    const subscribers = await Promise.all(
      used.flatMap((server, i) =>
        [0, 1].map(async (k) =>
          client({ url: () => server.wsUrl, token: await signToken(`sub-${i}-${k}`), channel }),
        ),
      ),
    );
    await Promise.all(subscribers.map((s) => s.started));
    const publishers = await Promise.all(
      used.map(async (server, i) => client({ url: () => server.wsUrl, token: await signToken(`pub-${i}`) })),
    );
    const perPublisher = Math.ceil(1000 / instanceCount);
    const sent = await publishConcurrently(publishers, channel, perPublisher);
    const total = perPublisher * instanceCount;
    await waitFor(
      () => subscribers.every((s) => s.events.length >= total),
      30_000,
      `${total} events everywhere`,
    );
    expectSameCompleteSequence(subscribers, sent);
  }, 60_000);
});

describe('failover', () => {
  it('clients of a SIGKILLed instance resume on another with every event once, no gap', async () => {
    const channel = 'chat:failover';
    const [doomed, survivor, publisherHost] = [servers[0]!, servers[1]!, servers[2]!];
    const subscribers: ChannelClient[] = [];
    for (let i = 0; i < 4; i++) {
      // First to the doomed instance, then to the others, as a load balancer would send a reconnect.
      let first = true;
      const url = () => {
        const chosen = first ? doomed.wsUrl : i % 2 ? survivor.wsUrl : publisherHost.wsUrl;
        first = false;
        return chosen;
      };
      subscribers.push(client({ url, token: await signToken(`victim-${i}`), channel }));
    }
    await Promise.all(subscribers.map((s) => s.started));
    const publisher = client({ url: () => publisherHost.wsUrl, token: await signToken('publisher') });
    const TOTAL = 400;
    const sent: string[] = [];
    let killed: Promise<void> | undefined;
    for (let n = 0; n < TOTAL; n++) {
      const text = `e${n}`;
      await publisher.trpc.channel.publish.mutate({ channel, type: 'message', payload: { text } });
      sent.push(text);
      if (n === 100) killed = doomed.kill();
      if (n % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await killed;
    await waitFor(
      () => subscribers.every((s) => s.events.length >= TOTAL),
      30_000,
      'all events after failover',
    );
    for (const subscriber of subscribers) {
      // They really lost their instance and came back elsewhere.
      expect(subscriber.closes()).toBeGreaterThan(0);
      assertOrderedUnique(subscriber.events);
      expect(textsOf(subscriber)).toEqual(sent);
      expect(subscriber.gaps).toEqual([]);
    }
    // Replace the killed instance for the tests that follow.
    servers[0] = await instances.startInstance();
  }, 60_000);
});

describe('presence across instances', () => {
  it("drops a SIGKILLed instance's members within the expiry and tells the others", async () => {
    const channel = 'chat:presence';
    const doomed = await instances.startInstance();
    const watcher = client({ url: () => servers[1]!.wsUrl, token: await signToken('watcher'), channel });
    await watcher.started;
    const ghost = createRecordingClient({
      url: () => doomed.wsUrl,
      token: await signToken('ghost'),
      channel,
      retryDelayMs: () => 60_000,
    });
    await ghost.started;
    const changes = () =>
      watcher.presence.map((e) => {
        const { action, member } = e.payload as { action: string; member: { userId: string } };
        return `${action}:${member.userId}`;
      });
    await waitFor(() => changes().includes('join:ghost'), 5000, 'ghost join');
    const { members } = await watcher.trpc.channel.presence.query({ channel });
    expect(members.map((m) => m.userId).sort()).toEqual(['ghost', 'watcher']);
    await doomed.kill();
    const killedAt = Date.now();
    await waitFor(() => changes().includes('leave:ghost'), 10_000, 'ghost leave after expiry');
    console.info(
      `presence: leave of a killed instance's member after ${Date.now() - killedAt} ms (TTL 1500 ms)`,
    );
    const after = await watcher.trpc.channel.presence.query({ channel });
    expect(after.members.map((m) => m.userId)).toEqual(['watcher']);
    ghost.close();
  }, 30_000);
});

describe('Redis outage', () => {
  it('survives a Redis restart: connections stay, publishes fail loudly during it, nothing after recovery is lost', async () => {
    const channel = 'chat:outage';
    const subscribers = await Promise.all(
      [servers[1]!, servers[2]!].map(async (server, i) =>
        client({ url: () => server.wsUrl, token: await signToken(`o${i}`), channel }),
      ),
    );
    await Promise.all(subscribers.map((s) => s.started));
    const publisher = client({ url: () => servers[1]!.wsUrl, token: await signToken('o-pub') });
    const publish = (text: string) =>
      publisher.trpc.channel.publish.mutate({ channel, type: 'message', payload: { text } });
    await publish('before');
    await waitFor(() => subscribers.every((s) => s.events.length === 1), 5000, 'first event');

    await instances.redis.kill();
    const during = await publish('during').catch((error: { data?: { code?: string } }) => error);
    expect((during as { data?: { code?: string } }).data?.code).toBe('SERVICE_UNAVAILABLE');
    await instances.redis.restart();
    const restartedAt = Date.now();
    // Recovery: the first publish that succeeds again.
    let recovered = false;
    while (!recovered && Date.now() - restartedAt < 15_000) {
      recovered = await publish('probe').then(
        () => true,
        () => new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 100)),
      );
    }
    expect(recovered).toBe(true);
    console.info(`redis restart: publishes succeed again ${Date.now() - restartedAt} ms after Redis is back`);
    const after = Array.from({ length: 50 }, (_, i) => `after-${i}`);
    for (const text of after) await publish(text);
    await waitFor(
      () => subscribers.every((s) => textsOf(s).includes('after-49')),
      15_000,
      'events after recovery',
    );
    for (const subscriber of subscribers) {
      const texts = textsOf(subscriber);
      // Redis kept nothing across the restart: the stream has a new epoch and subscribers are told.
      expect(subscriber.gaps.map((g) => (g.payload as { reason: string }).reason)).toEqual(['epoch-changed']);
      expect(texts).not.toContain('during');
      expect(texts.filter((t) => t.startsWith('after-'))).toEqual(after);
    }
  }, 60_000);
});

describe('Redis Cluster (3 masters)', () => {
  it('passes the same fan-out test with sharded pub/sub', async () => {
    const cluster = await startRedisCluster();
    const nodes: ServerProcess[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        nodes.push(
          await startServerProcess({ ...TEST_LIMITS, REDIS_URL: cluster.urls[i]!, REDIS_CLUSTER: 'true' }),
        );
      }
      const channels = ['chat:c-a', 'chat:c-b', 'chat:c-c'];
      for (const channel of channels) {
        const subscribers = await Promise.all(
          nodes.map(async (node, i) =>
            client({ url: () => node.wsUrl, token: await signToken(`cs-${i}`), channel }),
          ),
        );
        await Promise.all(subscribers.map((s) => s.started));
        const publishers = await Promise.all(
          nodes.map(async (node, i) => client({ url: () => node.wsUrl, token: await signToken(`cp-${i}`) })),
        );
        const sent = await publishConcurrently(publishers, channel, 100);
        await waitFor(
          () => subscribers.every((s) => s.events.length >= 200),
          20_000,
          `cluster fan-out on ${channel}`,
        );
        expectSameCompleteSequence(subscribers, sent);
      }
    } finally {
      await Promise.all(nodes.map((n) => n.kill()));
      await cluster.close();
    }
  }, 90_000);
});

describe('behind nginx (deploy/nginx.conf)', () => {
  it('forwards the upgrade to any instance, without sticky sessions, and resumes after an instance dies', async () => {
    const channel = 'chat:nginx';
    const [first, second] = [await instances.startInstance(), await instances.startInstance()];
    const nginx = await startNginx([first.port, second.port]);
    try {
      const subscribers = await Promise.all(
        [0, 1, 2, 3].map(async (i) =>
          client({ url: () => nginx.wsUrl, token: await signToken(`n${i}`), channel }),
        ),
      );
      await Promise.all(subscribers.map((s) => s.started));
      // The publisher talks to the survivor directly: a publish through the dying instance could be stored
      // and still fail for its caller, and a retry would then store the text twice (publish is at-least-once).
      const publisher = client({ url: () => second.wsUrl, token: await signToken('n-pub') });
      const sent: string[] = [];
      for (let n = 0; n < 200; n++) {
        const text = `n${n}`;
        await publisher.trpc.channel.publish.mutate({ channel, type: 'message', payload: { text } });
        sent.push(text);
        if (n === 80) await first.kill();
      }
      await waitFor(
        () => subscribers.every((s) => s.events.length >= sent.length),
        15_000,
        'all events through nginx',
      ).catch((error) => {
        throw new Error(`${error.message}: got ${subscribers.map((s) => s.events.length)} of ${sent.length}`);
      });
      for (const subscriber of subscribers) {
        expect(textsOf(subscriber)).toEqual(sent);
        assertOrderedUnique(subscriber.events);
        expect(subscriber.gaps).toEqual([]);
      }
    } finally {
      await nginx.stop();
      await Promise.all([first.kill(), second.kill()]);
    }
  }, 60_000);
});
