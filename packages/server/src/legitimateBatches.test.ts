/**
 * Limits count what they claim, and the server accepts every request sequence the official clients send
 * within the documented limits: `@trpc/client` resends every subscription in one batched frame after a
 * dropped socket, and sends calls made in one tick as one frame.
 */
import { CloseCode, CloseReason } from '@switchboard/protocol';
import { describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { useCleanup } from './__tests__/lifecycle.ts';
import { closeOf, connectRaw, connectTrpc, startTestServer, until } from './__tests__/testServer.ts';
import { serverDefaults } from './options.ts';

const track = useCleanup();
const server = (overrides = {}) => startTestServer(overrides).then((s) => track(s, (f) => f.close()));

const publishMessage = (id: number, channel: string) => ({
  id,
  method: 'mutation',
  params: {
    path: 'channel.publish',
    input: { json: { channel, type: 'message', payload: { text: `m${id}` } } },
  },
});

function collectReplies(socket: WebSocket) {
  const replies: {
    id: number;
    result?: unknown;
    error?: { json: { data?: { code?: string; switchboardCode?: string } } };
  }[] = [];
  socket.on('message', (data) => {
    const parsed = JSON.parse(data.toString());
    for (const reply of Array.isArray(parsed) ? parsed : [parsed]) replies.push(reply);
  });
  return replies;
}

describe('legitimate batches', () => {
  it.each([60, serverDefaults.maxSubscriptionsPerConnection])(
    'resubscribes %i channels after a dropped socket, sent by @trpc/client in one frame',
    async (count) => {
      const fixture = await server({ maxChannelsPerConnection: count });
      const client = track(connectTrpc(fixture.wsUrl, await fixture.sign('alice')), (c) => c.close());
      const starts = new Map<number, number>();
      const closes: number[] = [];
      for (let i = 0; i < count; i++) {
        // Started in one tick: the first connect also carries them all in one frame.
        client.trpc.channel.subscribe.subscribe(
          { channel: `chat:room-${i}` },
          { onStarted: () => starts.set(i, (starts.get(i) ?? 0) + 1), onError: () => {} },
        );
      }
      await until(() => starts.size === count, 10_000, 'every subscription started');
      const [connection] = fixture.server.registry.all();
      connection!.socket.on('close', (code) => closes.push(code));
      connection!.socket.terminate();
      await until(() => [...starts.values()].every((n) => n === 2), 10_000, 'every subscription restarted');
      expect(fixture.server.registry.size).toBe(1);
      const [resumed] = fixture.server.registry.all();
      expect(resumed!.subscribedChannels().size).toBe(count);
      // Only the terminate above (1006, no close frame): no policy close, no reconnect loop.
      expect(closes).toEqual([1006]);
    },
  );
});

describe('rate limit', () => {
  it('counts messages, not frames: a batch of 50 publishes takes 50 tokens', async () => {
    const burst = 250;
    const fixture = await server({
      rateLimitPerSecond: 10,
      rateLimitBurst: burst,
      maxSubscriptionsPerConnection: 10,
    });
    const socket = track(await connectRaw(fixture.wsUrl, await fixture.sign('alice')), (s) => s.close());
    const replies = collectReplies(socket);
    let id = 0;
    // 6 frames of 50: 300 messages, over the burst of 250, sent well under a second.
    for (let frame = 0; frame < 6; frame++) {
      socket.send(JSON.stringify(Array.from({ length: 50 }, () => publishMessage(++id, 'chat:flood'))));
    }
    await until(() => replies.length === 300, 5000, 'a reply to every message');
    const accepted = replies.filter((r) => r.result).length;
    const refused = replies.filter(
      (r) =>
        r.error?.json.data?.code === 'TOO_MANY_REQUESTS' &&
        r.error.json.data.switchboardCode === 'RATE_LIMITED',
    ).length;
    // The burst plus what refilled meanwhile (10/s): never 50 per frame's token.
    expect(accepted).toBeGreaterThanOrEqual(burst);
    expect(accepted).toBeLessThan(burst + 15);
    expect(refused).toBe(300 - accepted);
    expect(socket.readyState).toBe(socket.OPEN);
  });

  it('closes a client that keeps sending while refused with 1008, and keeps serving others', async () => {
    const fixture = await server({
      rateLimitPerSecond: 10,
      rateLimitBurst: 50,
      maxSubscriptionsPerConnection: 10,
    });
    const bystander = track(connectTrpc(fixture.wsUrl, await fixture.sign('bob')), (c) => c.close());
    const socket = await connectRaw(fixture.wsUrl, await fixture.sign('alice'));
    const closed = closeOf(socket);
    let id = 0;
    for (let frame = 0; frame < 4; frame++) {
      socket.send(JSON.stringify(Array.from({ length: 50 }, () => publishMessage(++id, 'chat:flood'))));
    }
    expect(await closed).toEqual({ code: CloseCode.POLICY_VIOLATION, reason: CloseReason.RATE_LIMITED });
    expect(await bystander.trpc.whoami.query()).toMatchObject({ userId: 'bob' });
  });

  it('refuses a batch larger than the burst, and a message over maxPayloadBytes inside a batch', async () => {
    const fixture = await server({
      rateLimitBurst: 20,
      maxSubscriptionsPerConnection: 10,
      maxPayloadBytes: 1024,
    });
    const tooMany = await connectRaw(fixture.wsUrl, await fixture.sign('alice'));
    const closedTooMany = closeOf(tooMany);
    tooMany.send(JSON.stringify(Array.from({ length: 21 }, (_, i) => publishMessage(i + 1, 'chat:x'))));
    expect((await closedTooMany).code).toBe(CloseCode.POLICY_VIOLATION);
    const tooBig = await connectRaw(fixture.wsUrl, await fixture.sign('alice'));
    const closedTooBig = closeOf(tooBig);
    const big = publishMessage(2, 'chat:x');
    (big.params.input.json.payload as { text: string }).text = 'x'.repeat(2000);
    tooBig.send(JSON.stringify([publishMessage(1, 'chat:x'), big]));
    expect(await closedTooBig).toEqual({
      code: CloseCode.MESSAGE_TOO_BIG,
      reason: CloseReason.MESSAGE_TOO_BIG,
    });
  });
});
