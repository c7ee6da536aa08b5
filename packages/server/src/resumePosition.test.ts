/**
 * The resume-position rule (issue: "a subscriber always has a resume position"): whatever the server sends
 * before a client could reconnect (`$live`, `$gap`, any event) leaves `@trpc/client` holding a position from
 * which a resume is exact. Searched as a property over how the subscription started (empty or full channel,
 * `replay`, a valid, evicted, foreign-epoch or unknown `lastEventId`), on the memory broker and on Redis,
 * with the official client reconnecting by itself after its socket is dropped.
 */
import type { Envelope } from '@switchboard/protocol';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useCleanup } from './__tests__/lifecycle.ts';
import { type RedisServer, startRedisServer } from './__tests__/redisServer.ts';
import { connectTrpc, deferred, startTestServer, type TestServer, until } from './__tests__/testServer.ts';
import type { Broker } from './broker/broker.ts';
import { createMemoryBroker } from './broker/memory.ts';
import { createRedisBroker } from './broker/redis.ts';

const HISTORY_SIZE = 5;
const track = useCleanup();

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
}, 30_000);
afterAll(() => redis?.close());

type Start =
  | { kind: 'fresh'; replay: number }
  | { kind: 'resume-valid' }
  | { kind: 'resume-evicted' }
  | { kind: 'resume-foreign-epoch' }
  | { kind: 'resume-unknown' };

const startArb: fc.Arbitrary<Start> = fc.oneof(
  fc.record({ kind: fc.constant('fresh' as const), replay: fc.integer({ min: 0, max: 3 }) }),
  fc.constant({ kind: 'resume-valid' as const }),
  fc.constant({ kind: 'resume-evicted' as const }),
  fc.constant({ kind: 'resume-foreign-epoch' as const }),
  fc.constant({ kind: 'resume-unknown' as const }),
);

const brokers: [string, () => Promise<Broker>][] = [
  ['memory', async () => createMemoryBroker({ historySize: HISTORY_SIZE })],
  [
    'redis',
    async () => {
      const broker = createRedisBroker({ url: redis.url, historySize: HISTORY_SIZE, commandTimeoutMs: 2000 });
      await broker.ready(10_000);
      return broker;
    },
  ],
];

describe.each(brokers)('resume position (%s broker)', (_name, makeBroker) => {
  let fixture: TestServer;
  let broker: Broker;
  beforeAll(async () => {
    broker = await makeBroker();
    fixture = await startTestServer({ broker });
  });
  afterAll(async () => {
    await fixture?.close();
    await broker?.close();
  });

  it('resumes exactly after whatever the subscription was sent first', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: HISTORY_SIZE + 3 }),
        startArb,
        fc.integer({ min: 1, max: HISTORY_SIZE }),
        async (before, start, missed) => {
          const channel = `chat:resume-${_name}-${run++}-${Date.now()}`;
          const publish = (text: string) => fixture.server.publish(channel, 'message', { text });
          const ids: string[] = [];
          for (let i = 0; i < before; i++) ids.push((await publish(`before-${i}`)).id!);
          const lastEventId = await lastEventIdFor(start, ids, publish);

          const client = track(connectTrpc(fixture.wsUrl, await fixture.sign('alice')), (c) => c.close());
          const received: Envelope[] = [];
          const started = deferred();
          let failed: unknown;
          const input = {
            channel,
            ...(start.kind === 'fresh' ? { replay: start.replay } : { lastEventId }),
          };
          const sub = client.trpc.channel.subscribe.subscribe(input, {
            onStarted: () => started.resolve(),
            onError: (err) => {
              failed = err;
              started.resolve();
            },
            onData: (item) => received.push(item.data),
          });
          track(sub, (s) => s.unsubscribe());
          await started.promise;
          expect(failed).toBeUndefined();
          await until(() => received.some((e) => e.type === '$live'), 5000, '$live');
          const caughtUp = received.length;

          // Drop the socket without a close frame; the client reconnects and resubscribes by itself.
          for (const connection of fixture.server.registry.all()) connection.socket.terminate();
          const expected: string[] = [];
          for (let i = 0; i < missed; i++) {
            expected.push(`missed-${i}`);
            await publish(`missed-${i}`);
          }
          await until(
            () => received.filter((e) => e.type === '$live').length >= 2,
            5000,
            'the second $live after the reconnect',
          );
          const afterReconnect = received.slice(caughtUp);
          // Exactly the missed events, in order, and no gap: the position held resumes exactly.
          expect(afterReconnect.filter((e) => e.type === '$gap')).toEqual([]);
          expect(
            afterReconnect
              .filter((e) => e.type === 'message')
              .map((e) => (e.payload as { text: string }).text),
          ).toEqual(expected);
          sub.unsubscribe();
          client.close();
        },
      ),
      { seed: 1207, numRuns: 25 },
    );
  }, 120_000);
});

/** The `lastEventId` a resuming subscription starts from, for each kind of start. */
async function lastEventIdFor(
  start: Start,
  ids: string[],
  publish: (text: string) => Promise<{ id?: string }>,
): Promise<string | undefined> {
  switch (start.kind) {
    case 'fresh':
      return undefined;
    case 'resume-valid':
      return ids.at(-1) ?? (await publish('only')).id;
    case 'resume-evicted': {
      const first = ids[0] ?? (await publish('first')).id!;
      for (let i = 0; i <= HISTORY_SIZE + 1; i++) await publish(`evicting-${i}`);
      return first;
    }
    case 'resume-foreign-epoch':
      return 'an-old-epoch:1';
    case 'resume-unknown':
      return 'not an id';
  }
}
