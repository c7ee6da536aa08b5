import { subscribeInputSchema } from '@switchboard/protocol';
import type { AnyTRPCRouter } from '@trpc/server';
import { describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { useCleanup } from './__tests__/lifecycle.ts';
import { connectRaw, startTestServer, testRouter, until } from './__tests__/testServer.ts';
import { ignoresSignal, initSwitchboard } from './router.ts';

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
  it('knows the built-in channel.subscribe wherever it is mounted, and nothing else, as the one that needs no signal', () => {
    const { router, procedure, channelRouter } = initSwitchboard();
    const mounted = router({ nested: router({ channel: channelRouter }) });
    const own = procedure.input(subscribeInputSchema).subscription(async function* () {});
    expect(ignoresSignal(procedureAt(testRouter, 'channel.subscribe'))).toBe(true);
    expect(ignoresSignal(procedureAt(mounted, 'nested.channel.subscribe'))).toBe(true);
    expect(ignoresSignal(procedureAt(testRouter, 'ticks'))).toBe(false);
    expect(ignoresSignal(procedureAt(testRouter, 'channel.publish'))).toBe(false);
    expect(ignoresSignal(own)).toBe(false);
    expect(ignoresSignal(undefined)).toBe(false);
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
});
