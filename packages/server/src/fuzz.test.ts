/**
 * Property-based fuzzing of inbound frames against a live server (real sockets). Every case must end in a
 * defined outcome — an error/data reply, or a close with a documented code — the server must never crash or
 * leak an unhandled rejection, and registry/subscription/presence counts must return to zero afterwards.
 */
import { CloseCode } from '@switchboard/protocol';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { closeOf, connectTrpc, startTestServer, type TestServer, until } from './__tests__/testServer.ts';

let fixture: TestServer;
let token: string;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
let casesRun = 0;

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUnhandled);
  fixture = await startTestServer({ maxPayloadBytes: 16 * 1024 });
  token = await fixture.sign('fuzzer');
});
afterAll(async () => {
  await fixture.close();
  process.off('unhandledRejection', onUnhandled);
  process.off('uncaughtException', onUnhandled);
  console.info(`fuzz: ${casesRun} cases run`);
});

/** How long a case may stay unanswered before it counts as silent. */
const SILENCE_MS = 300;

type Outcome = { kind: 'reply'; frame: unknown } | { kind: 'close'; code: number } | { kind: 'silent' };
const DOCUMENTED_CLOSES = new Set<number>([
  CloseCode.POLICY_VIOLATION,
  CloseCode.MESSAGE_TOO_BIG,
  1007, // invalid UTF-8, closed by ws itself
]);

/** Sends frames on a fresh socket and reports the first thing the server does about them. */
async function outcomeOf(frames: (string | Buffer)[]): Promise<Outcome> {
  casesRun++;
  const socket = new WebSocket(`${fixture.wsUrl}?token=${token}`);
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => {});
  const outcome = new Promise<Outcome>((resolve) => {
    socket.once('message', (data) => {
      const text = data.toString();
      resolve({ kind: 'reply', frame: text === 'PONG' ? text : JSON.parse(text) });
    });
    socket.once('close', (code) => resolve({ kind: 'close', code }));
    setTimeout(() => resolve({ kind: 'silent' }), SILENCE_MS);
  });
  for (const frame of frames) socket.send(frame, { binary: Buffer.isBuffer(frame) });
  const result = await outcome;
  socket.terminate();
  return result;
}

function assertDefined(outcome: Outcome, silenceAllowed: boolean) {
  if (outcome.kind === 'close') expect(DOCUMENTED_CLOSES).toContain(outcome.code);
  else if (outcome.kind === 'silent') expect(silenceAllowed).toBe(true);
}

const validSubscribe = (id: unknown, input: unknown) =>
  JSON.stringify({
    id,
    method: 'subscription',
    params: { path: 'channel.subscribe', input: { json: input } },
  });
const validPublish = (input: unknown) =>
  JSON.stringify({ id: 1, method: 'mutation', params: { path: 'channel.publish', input: { json: input } } });

describe('fuzzing inbound frames', () => {
  it('random bytes as binary frames close with 1008', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 2048 }), async (bytes) => {
        const outcome = await outcomeOf([Buffer.from(bytes)]);
        expect(outcome).toEqual({ kind: 'close', code: CloseCode.POLICY_VIOLATION });
      }),
      { numRuns: 40 },
    );
  });

  it('random text and truncated JSON end in an error reply or a documented close', async () => {
    const truncated = fc
      .tuple(
        fc.constantFrom(
          validSubscribe(1, { channel: 'chat:a' }),
          validPublish({ channel: 'chat:a', type: 'message', payload: { text: 'x' } }),
        ),
        fc.nat(),
      )
      .map(([frame, cut]) => frame.slice(0, cut % frame.length));
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 500 }), fc.json(), truncated), async (text) => {
        if (text === 'PING' || text === 'PONG') return;
        assertDefined(await outcomeOf([text]), false);
      }),
      { numRuns: 120 },
    );
  });

  it('wrong types in every tRPC and envelope field end in an error reply or a documented close', async () => {
    const anyValue = fc.oneof(fc.anything({ maxDepth: 3 }), fc.constant(null), fc.constant(undefined));
    const message = fc.record({
      id: fc.oneof(fc.integer(), fc.string({ maxLength: 80 }), anyValue),
      jsonrpc: fc.oneof(fc.constant('2.0'), anyValue),
      method: fc.oneof(
        fc.constantFrom(
          'query',
          'mutation',
          'subscription',
          'subscription.stop',
          'connectionParams',
          'explode',
        ),
        anyValue,
      ),
      params: fc.oneof(
        fc.record({
          path: fc.oneof(
            fc.constantFrom(
              'channel.subscribe',
              'channel.publish',
              'channel.presence',
              'whoami',
              'nope.nope',
              '__proto__',
            ),
            anyValue,
          ),
          input: fc.oneof(
            fc.record({
              json: fc.record({
                channel: fc.oneof(fc.constantFrom('chat:a', 'user:someone', 'chat:*', ''), anyValue),
                type: fc.oneof(fc.constantFrom('message', 'typing', '$gap'), anyValue),
                payload: anyValue,
                correlationId: fc.oneof(fc.string({ maxLength: 300 }), anyValue),
                lastEventId: fc.oneof(fc.string({ maxLength: 100 }), anyValue),
                replay: anyValue,
              }),
            }),
            anyValue,
          ),
          lastEventId: fc.oneof(fc.string({ maxLength: 100 }), anyValue),
        }),
        anyValue,
      ),
    });
    await fc.assert(
      fc.asyncProperty(message, async (value) => {
        const outcome = await outcomeOf([JSON.stringify(value)]);
        // stop and connectionParams have no reply by design.
        assertDefined(outcome, value.method === 'subscription.stop' || value.method === 'connectionParams');
      }),
      { numRuns: 200 },
    );
  }, 120_000);

  it('deep nesting and huge arrays close with 1008 or 1009', async () => {
    const depth = 5000;
    const deep = `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const huge = JSON.stringify(Array.from({ length: 20_000 }, (_, i) => i));
    const nestedInput = validPublish({
      channel: 'chat:a',
      type: 'message',
      payload: JSON.parse(`${'{"a":'.repeat(200)}1${'}'.repeat(200)}`),
    });
    for (const frame of [deep, huge]) assertDefined(await outcomeOf([frame]), false);
    const nested = await outcomeOf([nestedInput]);
    expect(nested.kind).toBe('reply');
  });

  it('unknown methods and paths are answered or closed, never ignored', async () => {
    assertDefined(
      await outcomeOf([JSON.stringify({ id: 1, method: 'query', params: { path: 'does.not.exist' } })]),
      false,
    );
    assertDefined(
      await outcomeOf([JSON.stringify({ id: 1, method: 'teleport', params: { path: 'whoami' } })]),
      false,
    );
  });

  it('10,000 subscriptions on one socket end with 1008 and leave nothing behind', async () => {
    const socket = new WebSocket(`${fixture.wsUrl}?token=${token}`);
    await new Promise((resolve) => socket.once('open', resolve));
    socket.on('error', () => {});
    const closed = closeOf(socket);
    const batch: string[] = [];
    for (let id = 1; id <= 10_000; id++) {
      batch.push(
        JSON.stringify({
          id,
          method: 'subscription',
          params: { path: 'channel.subscribe', input: { json: { channel: `chat:r${id % 50}` } } },
        }),
      );
      // Batches of 50 (the batch limit), so the rate limit is not what stops it.
      if (batch.length === 50) {
        if (socket.readyState !== socket.OPEN) break;
        socket.send(`[${batch.splice(0).join(',')}]`);
      }
    }
    casesRun++;
    expect((await closed).code).toBe(CloseCode.POLICY_VIOLATION);
  });

  it('returns registry, subscription, channel and presence counts to zero and stays healthy', async () => {
    await until(
      () =>
        fixture.server.registry.size === 0 &&
        fixture.server.metrics.stats.subscriptions === 0 &&
        fixture.server.metrics.stats.channels === 0,
      10_000,
      'counts back to zero',
    );
    const probe = connectTrpc(fixture.wsUrl, await fixture.sign('probe'));
    expect(await probe.trpc.whoami.query()).toMatchObject({ userId: 'probe' });
    expect(await probe.trpc.channel.presence.query({ channel: 'chat:a' })).toEqual({ members: [] });
    probe.close();
    expect(unhandled).toEqual([]);
    expect(casesRun).toBeGreaterThan(350);
  });
});
