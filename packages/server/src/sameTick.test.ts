/**
 * Same tick ≡ sequential: requests of one connection that arrive in one frame leave exactly the state they
 * leave when they arrive one by one, each after the answer to the one before. Searched as a property over
 * random sequences of subscribe, unsubscribe, setPresence, presence and publish on a few channels, sent over
 * tRPC's wire protocol (what `@trpc/client` sends for calls made in one tick, or queued while offline).
 * Observed: every request's outcome, what each subscription received, the connection's channels and each
 * channel's presence.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestServer, type TestServer, until } from './__tests__/testServer.ts';

type Op =
  | { kind: 'subscribe'; channel: number }
  | { kind: 'unsubscribe'; subscription: number }
  | { kind: 'setPresence'; channel: number; status: string }
  | { kind: 'presence'; channel: number }
  | { kind: 'publish'; channel: number; text: string };

const CHANNELS = 3;
const channelArb = fc.integer({ min: 0, max: CHANNELS - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('subscribe' as const), channel: channelArb }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('unsubscribe' as const), subscription: fc.nat({ max: 5 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('setPresence' as const),
      channel: channelArb,
      status: fc.constantFrom('here', 'away', 'busy'),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('presence' as const), channel: channelArb }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('publish' as const),
      channel: channelArb,
      text: fc.string({ minLength: 1, maxLength: 8 }),
    }),
  },
);

interface Reply {
  id: number;
  result?: { type: string; data?: { json: unknown } };
  error?: { json: { data?: { code?: string } } };
}

/** A raw socket speaking tRPC's wire protocol, collecting every reply by request id. */
class WireClient {
  readonly replies = new Map<number, Reply[]>();
  constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const parsed = JSON.parse(data.toString()) as Reply | Reply[];
      for (const reply of Array.isArray(parsed) ? parsed : [parsed]) {
        const list = this.replies.get(reply.id) ?? [];
        list.push(reply);
        this.replies.set(reply.id, list);
      }
    });
  }
  /** Resolves once request `id` has its final answer (a result that is not `data` of a subscription, or an error). */
  answered(id: number, subscription: boolean) {
    return until(
      () =>
        (this.replies.get(id) ?? []).some(
          (r) => r.error || (subscription ? r.result?.type === 'started' : r.result?.type === 'data'),
        ),
      5000,
      `answer to ${id}`,
    );
  }
}

function connect(fixture: TestServer, token: string): Promise<WireClient> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${fixture.wsUrl}?token=${token}`);
    const client = new WireClient(socket);
    socket.once('open', () => resolve(client));
    socket.once('error', reject);
  });
}

/** The wire messages of a sequence of operations, with fresh request ids and channel names under `prefix`. */
function toMessages(ops: Op[], prefix: string) {
  const channel = (n: number) => `chat:${prefix}-${n}`;
  const subscriptions: number[] = [];
  const stopped = new Set<number>();
  const messages: { id: number; message: object; subscription: boolean; barrier?: object }[] = [];
  let id = 0;
  for (const op of ops) {
    id++;
    switch (op.kind) {
      case 'subscribe':
        subscriptions.push(id);
        messages.push({
          id,
          subscription: true,
          message: {
            id,
            method: 'subscription',
            params: { path: 'channel.subscribe', input: { json: { channel: channel(op.channel) } } },
          },
        });
        break;
      case 'unsubscribe': {
        const target = subscriptions[op.subscription];
        if (target === undefined || stopped.has(target)) break;
        stopped.add(target);
        // Sent one by one, a stop has no answer: a presence query of every channel after it is the barrier.
        messages.push({
          id,
          subscription: false,
          message: { id: target, method: 'subscription.stop' },
          barrier: {
            path: 'channel.presence',
            channels: Array.from({ length: CHANNELS }, (_, n) => channel(n)),
          },
        });
        break;
      }
      case 'setPresence':
        messages.push({
          id,
          subscription: false,
          message: {
            id,
            method: 'mutation',
            params: {
              path: 'channel.setPresence',
              input: { json: { channel: channel(op.channel), meta: { status: op.status } } },
            },
          },
        });
        break;
      case 'presence':
        messages.push({
          id,
          subscription: false,
          message: {
            id,
            method: 'query',
            params: { path: 'channel.presence', input: { json: { channel: channel(op.channel) } } },
          },
        });
        break;
      case 'publish':
        messages.push({
          id,
          subscription: false,
          message: {
            id,
            method: 'mutation',
            params: {
              path: 'channel.publish',
              input: { json: { channel: channel(op.channel), type: 'message', payload: { text: op.text } } },
            },
          },
        });
        break;
    }
  }
  return { messages, subscriptions, stopped, channel };
}

/** What a run leaves behind, with channel names made independent of the run. */
async function observe(
  fixture: TestServer,
  client: WireClient,
  plan: ReturnType<typeof toMessages>,
  prefix: string,
) {
  const normalise = (value: unknown) => JSON.parse(JSON.stringify(value).replaceAll(prefix, 'user'));
  // Barrier: a presence query per channel is answered after everything queued for that channel.
  let barrierId = 100_000;
  const presence: unknown[] = [];
  for (let n = 0; n < CHANNELS; n++) {
    const id = ++barrierId;
    client.socket.send(
      JSON.stringify({
        id,
        method: 'query',
        params: { path: 'channel.presence', input: { json: { channel: plan.channel(n) } } },
      }),
    );
    await client.answered(id, false);
    presence.push(client.replies.get(id)?.[0]?.result?.data?.json);
  }
  // A marker per channel, published by the server: a live subscription has everything once it has this.
  for (let n = 0; n < CHANNELS; n++)
    await fixture.server.publish(plan.channel(n), 'message', { text: 'END' });
  const connection = [...fixture.server.registry.all()].find((c) => c.user.userId === prefix);
  const received = (id: number) =>
    (client.replies.get(id) ?? [])
      .filter((r) => r.result?.type === 'data')
      .map((r) => (r.result!.data!.json as { data: { type: string; payload: { text?: string } } }).data)
      .filter((e) => e.type === 'message')
      .map((e) => e.payload.text);
  const started = (id: number) => (client.replies.get(id) ?? []).some((r) => r.result?.type === 'started');
  const live = plan.subscriptions.filter((id) => !plan.stopped.has(id) && started(id));
  await until(() => live.every((id) => received(id).includes('END')), 5000, 'the END markers');
  const outcomes = plan.messages
    .filter((m) => !m.barrier)
    .map((m) => {
      // A subscription stopped by a later request: whether it started first is not part of the state.
      if (plan.stopped.has(m.id)) return 'stopped';
      const replies = client.replies.get(m.id) ?? [];
      const error = replies.find((r) => r.error)?.error?.json.data?.code;
      return error ?? 'ok';
    });
  return normalise({
    outcomes,
    received: plan.subscriptions.map((id) => received(id)),
    channels: Object.fromEntries(connection?.subscribedChannels() ?? []),
    presence,
  });
}

describe('same tick ≡ sequential', () => {
  let fixture: TestServer;
  beforeAll(async () => {
    fixture = await startTestServer();
  });
  afterAll(() => fixture?.close());

  it('one frame leaves the state that one request at a time leaves', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 14 }), async (ops) => {
        run++;
        const states = [];
        for (const mode of ['sequential', 'batched'] as const) {
          const prefix = `${mode}${run}`;
          const client = await connect(fixture, await fixture.sign(prefix));
          const plan = toMessages(ops, prefix);
          if (mode === 'batched') {
            client.socket.send(JSON.stringify(plan.messages.map((m) => m.message)));
          } else {
            for (const m of plan.messages) {
              client.socket.send(JSON.stringify(m.message));
              if (m.barrier) {
                for (const [n, channel] of (m.barrier as { channels: string[] }).channels.entries()) {
                  const id = 50_000 + m.id * 10 + n;
                  client.socket.send(
                    JSON.stringify({
                      id,
                      method: 'query',
                      params: { path: 'channel.presence', input: { json: { channel } } },
                    }),
                  );
                  await client.answered(id, false);
                }
              } else await client.answered(m.id, m.subscription);
            }
          }
          if (mode === 'batched') {
            for (const m of plan.messages) {
              if (!m.barrier && !plan.stopped.has(m.id)) await client.answered(m.id, m.subscription);
            }
          }
          states.push(await observe(fixture, client, plan, prefix));
          client.socket.close();
        }
        expect(states[1]).toEqual(states[0]);
      }),
      { seed: 4242, numRuns: 40 },
    );
  }, 120_000);
});
