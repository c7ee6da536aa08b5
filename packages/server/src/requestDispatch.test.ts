import { ErrorCode, SwitchboardError, subscribeInputSchema } from '@switchboard/protocol';
import type { AnyTRPCRouter } from '@trpc/server';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { useCleanup } from './__tests__/lifecycle.ts';
import { connectRaw, connectTrpc, startTestServer, testRouter, until } from './__tests__/testServer.ts';
import { createMemoryBroker } from './broker/memory.ts';
import { initSwitchboard, isBuiltInChannelSubscribe } from './router.ts';

const track = useCleanup();

function framesOf(socket: WebSocket): unknown[] {
  const frames: unknown[] = [];
  socket.on('message', (data) => frames.push(JSON.parse(data.toString())));
  return frames;
}

/** The procedure the dispatcher finds for a request's path (tRPC keeps them by their dotted path). */
const procedureAt = (router: AnyTRPCRouter, path: string): unknown => router._def.procedures[path];

const subscribeFrame = (id: number, path: string, channel: string) =>
  JSON.stringify({ id, method: 'subscription', params: { path, input: { json: { channel } } } });

describe('request dispatch', () => {
  it('knows the built-in channel.subscribe wherever it is mounted, and nothing else', () => {
    const { router, procedure, channelRouter } = initSwitchboard();
    const mounted = router({ nested: router({ channel: channelRouter }) });
    const own = procedure.input(subscribeInputSchema).subscription(async function* () {});
    expect(isBuiltInChannelSubscribe(procedureAt(testRouter, 'channel.subscribe'))).toBe(true);
    expect(isBuiltInChannelSubscribe(procedureAt(mounted, 'nested.channel.subscribe'))).toBe(true);
    expect(isBuiltInChannelSubscribe(procedureAt(testRouter, 'ticks'))).toBe(false);
    expect(isBuiltInChannelSubscribe(procedureAt(testRouter, 'channel.publish'))).toBe(false);
    expect(isBuiltInChannelSubscribe(own)).toBe(false);
    expect(isBuiltInChannelSubscribe(undefined)).toBe(false);
  });

  it("serves an app's own procedure that returns a channel stream with its signal, and aborts it on stop", async () => {
    const { router, procedure, channelRouter } = initSwitchboard();
    const signals: AbortSignal[] = [];
    const appRouter = router({
      channel: channelRouter,
      mine: procedure.input(subscribeInputSchema).subscription(({ ctx, input, signal }) => {
        if (signal) signals.push(signal);
        return ctx.switchboard.channels.subscribe(ctx, input);
      }),
    });
    const fixture = track(await startTestServer({ router: appRouter }), (f) => f.close());
    const socket = track(await connectRaw(fixture.wsUrl, await fixture.sign('alice')), (s) => s.close());
    const frames = framesOf(socket);
    socket.send(subscribeFrame(1, 'mine', 'chat:room'));
    await until(() => frames.some((f) => JSON.stringify(f) === '{"id":1,"result":{"type":"started"}}'));
    expect(signals).toHaveLength(1);
    expect(fixture.server.metrics.stats.subscriptions).toBe(1);
    const [connection] = fixture.server.registry.all();
    expect(connection!.isSubscribedTo('chat:room')).toBe(true);
    await fixture.server.publish('chat:room', 'message', { text: 'hi' });
    await until(() => frames.some((f) => JSON.stringify(f).includes('"text":"hi"')));
    socket.send(JSON.stringify({ id: 1, method: 'subscription.stop' }));
    await until(() => fixture.server.metrics.stats.subscriptions === 0);
    expect(signals[0]!.aborted).toBe(true);
    expect(connection!.isSubscribedTo('chat:room')).toBe(false);
  });
  it("calls @trpc/client's onStarted only once the client holds a resume position (after history and $live)", async () => {
    const fixture = track(await startTestServer(), (f) => f.close());
    await fixture.server.publish('chat:room', 'message', { text: 'stored' });
    const client = track(connectTrpc(fixture.wsUrl, await fixture.sign('alice')), (c) => c.close());
    const seen: string[] = [];
    await new Promise<void>((resolve) => {
      client.trpc.channel.subscribe.subscribe(
        { channel: 'chat:room', replay: 1 },
        {
          onStarted: () => {
            seen.push('started');
            resolve();
          },
          onData: (item) => seen.push(item.data.type),
        },
      );
    });
    // A drop right after onStarted resumes from `$live`'s position (tracked: wsLink keeps it as lastEventId).
    // `started` first would leave the client started without one, and a publish in that window would be
    // lost on resubscribe.
    expect(seen.slice(0, 3)).toEqual(['message', '$live', 'started']);
  });
});

describe('built-in channel.subscribe without tRPC around it', () => {
  /** Decides by the channel's key, so every kind of answer an authorizer gives is generated. */
  const canSubscribe = async (_user: unknown, channel: string) => {
    if (channel.endsWith(':denied')) return false;
    if (channel.endsWith(':boom')) throw new Error('boom');
    if (channel.endsWith(':busy')) throw new SwitchboardError(ErrorCode.BROKER_UNAVAILABLE, 'busy');
    return true;
  };
  const channel = fc.oneof(
    fc.constantFrom('chat:room', 'chat:denied', 'chat:boom', 'chat:busy', 'user:alice', 'user:bob'),
    fc.constantFrom('nope:x', '', 'chat:', 'chat', 'CHAT:room', 'chat: room', `chat:${'x'.repeat(300)}`),
    fc.string({ maxLength: 10 }),
    fc.integer(),
    fc.constant(null),
  );
  const eventId = fc.oneof(fc.constantFrom('0:1', 'zz:0-1', ''), fc.string({ maxLength: 70 }), fc.integer());
  const replay = fc.oneof(
    fc.integer({ min: -2, max: 1002 }),
    fc.double(),
    fc.constant('3'),
    fc.constant(null),
  );
  const input = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({ channel, lastEventId: eventId, replay }, { requiredKeys: ['channel'] }),
    },
    fc.record({ channel, extra: fc.string() }),
    fc.constantFrom(null, 'chat:room', 42, [], { channel: 'chat:room', lastEventId: null }),
  );
  const request = fc.record({
    input: fc.option(input, { nil: undefined }),
    // Beside the input, as @trpc/client sends a resume position (at most 64 characters on the wire).
    lastEventId: fc.option(fc.oneof(fc.constant('0:5'), fc.string({ maxLength: 64 })), { nil: undefined }),
  });

  it('answers every subscribe exactly as the same procedure run through tRPC does (seeded)', async () => {
    const { router, procedure } = initSwitchboard();
    // The built-in procedure's exact definition, built by the app: not recognised, so tRPC runs it.
    const viaTrpc = router({
      channel: router({
        subscribe: procedure
          .input(subscribeInputSchema)
          .subscription(({ ctx, input }) => ctx.switchboard.channels.subscribe(ctx, input)),
      }),
    });
    expect(isBuiltInChannelSubscribe(procedureAt(viaTrpc, 'channel.subscribe'))).toBe(false);
    // One broker for both, so resume positions (which carry the stream's epoch) are the same.
    const broker = createMemoryBroker();
    track(broker, (b) => b.close());
    await broker.publish('chat:room', { type: 'message', json: '{"type":"message"}', ephemeral: false });
    const direct = track(await startTestServer({ broker, canSubscribe }), (f) => f.close());
    const trpc = track(await startTestServer({ broker, canSubscribe, router: viaTrpc }), (f) => f.close());
    const token = await direct.sign('alice');

    async function answers(url: string, requests: { input?: unknown; lastEventId?: string | undefined }[]) {
      const socket = await connectRaw(url, token);
      const frames = framesOf(socket);
      requests.forEach((r, id) => {
        const params = {
          path: 'channel.subscribe',
          input: r.input === undefined ? undefined : { json: r.input },
        };
        socket.send(
          JSON.stringify({ id, method: 'subscription', params: { ...params, lastEventId: r.lastEventId } }),
        );
      });
      // Answered: an error, or `$live` (which follows `started` and any history; superjson'd on the wire).
      const done = (id: number) =>
        frames.some((f) => {
          const frame = f as {
            id?: number;
            error?: unknown;
            result?: { data?: { json?: { data?: { type?: string } } } };
          };
          return (
            frame.id === id && (frame.error !== undefined || frame.result?.data?.json?.data?.type === '$live')
          );
        });
      await until(() => requests.every((_, id) => done(id)), 5000, 'every answer');
      socket.close();
      // Envelopes carry the time they were made.
      return requests.map((_, id) =>
        frames
          .filter((f) => (f as { id?: number }).id === id)
          .map((f) => JSON.stringify(f).replace(/"ts":\d+/g, '"ts":0')),
      );
    }

    const outcomes = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 6 }), async (requests) => {
        const directly = await answers(direct.wsUrl, requests);
        expect(directly).toEqual(await answers(trpc.wsUrl, requests));
        for (const frames of directly)
          outcomes.add(/switchboardCode":"(\w+)/.exec(frames.at(-1)!)?.[1] ?? 'started');
      }),
      { seed: 20261130, numRuns: 120 },
    );
    // Every kind of answer was compared, not only the common ones.
    expect([...outcomes].sort()).toEqual(
      ['BAD_REQUEST', 'BROKER_UNAVAILABLE', 'FORBIDDEN', 'INTERNAL', 'UNKNOWN_CHANNEL', 'started'].sort(),
    );
  });
});
