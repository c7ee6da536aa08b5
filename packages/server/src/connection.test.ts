import { CloseCode, CloseReason } from '@switchboard/protocol';
import { TRPCClientError } from '@trpc/client';
import { describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { useCleanup } from './__tests__/lifecycle.ts';
import { closeOf, connectRaw, connectTrpc, startTestServer, until } from './__tests__/testServer.ts';

const track = useCleanup();
const server = (overrides = {}) => startTestServer(overrides).then((s) => track(s, (f) => f.close()));

function nextFrame(socket: WebSocket): Promise<unknown> {
  return new Promise((resolve) => socket.once('message', (data) => resolve(JSON.parse(data.toString()))));
}

const subscribe = (id: number, channel: string) => ({
  id,
  method: 'subscription',
  params: { path: 'channel.subscribe', input: { json: { channel } } },
});

/** A round trip after which every earlier frame of this socket has been answered (whoami names no channel). */
async function alicePing(socket: WebSocket, frames: { id?: number }[]) {
  socket.send(JSON.stringify({ id: 999, method: 'query', params: { path: 'whoami' } }));
  await until(() => frames.some((f) => f.id === 999));
}

describe('connection', () => {
  it.each([
    ['malformed JSON', '{"id":1,', 'malformed JSON frame'],
    [
      'a frame that fails the schema',
      JSON.stringify({ id: 1, method: 'explode', params: {} }),
      CloseReason.SCHEMA_VIOLATION,
    ],
    [
      'a wrongly typed field',
      JSON.stringify({ id: 1, method: 'query', params: { path: 42 } }),
      CloseReason.SCHEMA_VIOLATION,
    ],
    ['an empty batch', '[]', CloseReason.SCHEMA_VIOLATION],
  ])('closes with 1008 and a reason on %s', async (_, frame, reason) => {
    const fixture = await server();
    const socket = await connectRaw(fixture.wsUrl, await fixture.sign('alice'));
    const closed = closeOf(socket);
    socket.send(frame);
    expect(await closed).toEqual({ code: CloseCode.POLICY_VIOLATION, reason });
    await until(() => fixture.server.registry.size === 0);
  });

  it('closes with 1008 on a binary frame', async () => {
    const fixture = await server();
    const socket = await connectRaw(fixture.wsUrl, await fixture.sign('alice'));
    const closed = closeOf(socket);
    socket.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await closed).toEqual({ code: CloseCode.POLICY_VIOLATION, reason: CloseReason.BINARY_FRAME });
  });

  it('closes with 1009 on a frame over maxPayloadBytes and keeps serving others', async () => {
    const fixture = await server({ maxPayloadBytes: 1024 });
    const bystander = connectTrpc(fixture.wsUrl, await fixture.sign('bob'));
    track(bystander, (c) => c.close());
    const socket = await connectRaw(fixture.wsUrl, await fixture.sign('alice'));
    const closed = closeOf(socket);
    socket.send(
      JSON.stringify({ id: 1, method: 'query', params: { path: 'whoami', input: 'x'.repeat(2048) } }),
    );
    expect((await closed).code).toBe(CloseCode.MESSAGE_TOO_BIG);
    expect(await bystander.trpc.whoami.query()).toMatchObject({ userId: 'bob' });
  });

  it('closes on a deeply nested batch item over maxPayloadBytes and stays up (it used to overflow the stack)', async () => {
    const fixture = await server();
    const socket = await connectRaw(fixture.wsUrl, await fixture.sign('alice'));
    const closed = closeOf(socket);
    const deep = `${'['.repeat(40_000)}${']'.repeat(40_000)}`;
    socket.send(`[{"id":1,"method":"query","params":{"path":"whoami"}},${deep}]`);
    expect((await closed).code).toBe(CloseCode.MESSAGE_TOO_BIG);
    const bystander = track(connectTrpc(fixture.wsUrl, await fixture.sign('bob')), (c) => c.close());
    expect(await bystander.trpc.whoami.query()).toMatchObject({ userId: 'bob' });
  });

  it('closes a flooding client with 1008 "rate limit exceeded" and keeps serving others', async () => {
    const fixture = await server({
      rateLimitPerSecond: 10,
      rateLimitBurst: 20,
      maxSubscriptionsPerConnection: 20,
    });
    const bystander = connectTrpc(fixture.wsUrl, await fixture.sign('bob'));
    track(bystander, (c) => c.close());
    const socket = await connectRaw(fixture.wsUrl, await fixture.sign('alice'));
    const closed = closeOf(socket);
    for (let i = 0; i < 100; i++) socket.send('PING');
    expect(await closed).toEqual({ code: CloseCode.POLICY_VIOLATION, reason: CloseReason.RATE_LIMITED });
    expect(await bystander.trpc.whoami.query()).toMatchObject({ userId: 'bob' });
  });

  it("answers tRPC's text PING with PONG", async () => {
    const fixture = await server();
    const socket = track(await connectRaw(fixture.wsUrl, await fixture.sign('alice')), (s) => s.close());
    const reply = new Promise((resolve) => socket.once('message', (data) => resolve(data.toString())));
    socket.send('PING');
    expect(await reply).toBe('PONG');
  });

  it('rejects a bad publish payload with BAD_REQUEST and keeps the connection open', async () => {
    const fixture = await server();
    const client = track(connectTrpc(fixture.wsUrl, await fixture.sign('alice')), (c) => c.close());
    const attempts = [
      { channel: 'chat:room', type: 'message', payload: { text: '' } },
      { channel: 'chat:room', type: 'nope', payload: {} },
      { channel: 'nope:room', type: 'message', payload: { text: 'hi' } },
      { channel: 'chat:*', type: 'message', payload: { text: 'hi' } },
    ];
    for (const input of attempts) {
      const error = await client.trpc.channel.publish.mutate(input).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TRPCClientError);
      expect((error as TRPCClientError<never>).data).toMatchObject({ code: 'BAD_REQUEST' });
      expect((error as { data?: object }).data).not.toHaveProperty('stack');
    }
    expect(await client.trpc.whoami.query()).toMatchObject({ userId: 'alice' });
  });

  it('serves a request sent again while its first copy is in flight once (a retransmission)', async () => {
    const fixture = await server();
    const socket = track(await connectRaw(fixture.wsUrl, await fixture.sign('alice')), (s) => s.close());
    const publish = JSON.stringify({
      id: 3,
      method: 'mutation',
      params: {
        path: 'channel.publish',
        input: { json: { channel: 'chat:retransmit', type: 'message', payload: { text: 'once' } } },
      },
    });
    const frames: { id?: number; error?: unknown; result?: unknown }[] = [];
    socket.on('message', (data) => frames.push(JSON.parse(data.toString())));
    // As @trpc/client does when it reconnects while flushing: the same request twice, back to back.
    socket.send(publish);
    socket.send(publish);
    await until(() => frames.some((f) => f.id === 3));
    await alicePing(socket, frames);
    expect(frames.filter((f) => f.id === 3)).toHaveLength(1);
    const history = await fixture.server.broker.history('chat:retransmit', { last: 10 });
    expect(history.recovered && history.events).toHaveLength(1);
  });

  it('ignores a subscription id sent again while it is active, and keeps the first subscription', async () => {
    const fixture = await server();
    const socket = track(await connectRaw(fixture.wsUrl, await fixture.sign('alice')), (s) => s.close());
    const subscribe = JSON.stringify({
      id: 7,
      method: 'subscription',
      params: { path: 'channel.subscribe', input: { json: { channel: 'chat:a' } } },
    });
    const frames: { id?: number; error?: unknown; result?: { type: string } }[] = [];
    socket.on('message', (data) => frames.push(JSON.parse(data.toString())));
    socket.send(subscribe);
    socket.send(subscribe);
    await until(() => frames.some((f) => f.result?.type === 'started'));
    await alicePing(socket, frames);
    expect(frames.filter((f) => f.error)).toEqual([]);
    expect(frames.filter((f) => f.result?.type === 'started')).toHaveLength(1);
    expect(fixture.server.metrics.stats.subscriptions).toBe(1);
  });

  it('closes with 1008 past maxSubscriptionsPerConnection', async () => {
    const fixture = await server({ maxSubscriptionsPerConnection: 5 });
    const socket = await connectRaw(fixture.wsUrl, await fixture.sign('alice'));
    const closed = closeOf(socket);
    for (let id = 1; id <= 6; id++) {
      socket.send(
        JSON.stringify({
          id,
          method: 'subscription',
          params: { path: 'ticks', input: { json: { count: 0 } } },
        }),
      );
    }
    // ticks completes immediately, so send subscriptions that stay open.
    for (let id = 10; id <= 20; id++) {
      socket.send(
        JSON.stringify({
          id,
          method: 'subscription',
          params: { path: 'channel.subscribe', input: { json: { channel: `chat:r${id}` } } },
        }),
      );
    }
    expect(await closed).toEqual({
      code: CloseCode.POLICY_VIOLATION,
      reason: CloseReason.TOO_MANY_SUBSCRIPTIONS,
    });
    await until(() => fixture.server.metrics.stats.subscriptions === 0);
  });

  it.each([
    [
      'one subscription too many',
      JSON.stringify(subscribe(6, 'chat:s6')),
      CloseReason.TOO_MANY_SUBSCRIPTIONS,
    ],
    ['a malformed frame', '{"id":7,', 'malformed JSON frame'],
    [
      'input that is not superjson',
      JSON.stringify({
        id: 8,
        method: 'query',
        params: { path: 'whoami', input: { json: { a: 1 }, meta: { values: { a: ['nope'] } } } },
      }),
      'input is not valid superjson',
    ],
  ])('answers what it served before closing for %s (found by a breaker)', async (_, violation, reason) => {
    const fixture = await server({ maxSubscriptionsPerConnection: 5 });
    const socket = await connectRaw(fixture.wsUrl, await fixture.sign('alice'));
    const frames: { id?: number }[] = [];
    socket.on('message', (data) => frames.push(JSON.parse(data.toString())));
    for (let id = 1; id <= 5; id++) socket.send(JSON.stringify(subscribe(id, `chat:s${id}`)));
    await until(() => frames.filter((f) => f.id !== undefined && f.id <= 5).length >= 10);
    const closed = closeOf(socket);
    // Sent in the same tick as the violation: the server acts on them, so it must also answer them.
    socket.send(JSON.stringify({ id: 100, method: 'query', params: { path: 'whoami' } }));
    socket.send(
      JSON.stringify({
        id: 101,
        method: 'mutation',
        params: {
          path: 'channel.publish',
          input: { json: { channel: 'chat:other', type: 'message', payload: { text: 'once' } } },
        },
      }),
    );
    socket.send(violation);
    // Read no more: a request after the violation is neither served nor answered.
    socket.send(JSON.stringify({ id: 102, method: 'query', params: { path: 'whoami' } }));
    expect(await closed).toEqual({ code: CloseCode.POLICY_VIOLATION, reason });
    expect(frames.map((f) => f.id).filter((id) => id !== undefined && id >= 100)).toEqual([100, 101]);
  });

  it('refuses channels past maxChannelsPerConnection with TOO_MANY_REQUESTS', async () => {
    const fixture = await server({ maxChannelsPerConnection: 2 });
    const client = track(connectTrpc(fixture.wsUrl, await fixture.sign('alice')), (c) => c.close());
    const errors: unknown[] = [];
    for (const room of ['a', 'b', 'c']) {
      client.trpc.channel.subscribe.subscribe(
        { channel: `chat:${room}` },
        { onError: (e) => errors.push(e) },
      );
    }
    await until(() => errors.length === 1);
    expect((errors[0] as TRPCClientError<never>).data).toMatchObject({ code: 'TOO_MANY_REQUESTS' });
  });

  it('serves ordinary tRPC subscriptions (async generators) next to channels', async () => {
    const fixture = await server();
    const client = track(connectTrpc(fixture.wsUrl, await fixture.sign('alice')), (c) => c.close());
    const values: number[] = [];
    await new Promise<void>((resolve) => {
      client.trpc.ticks.subscribe(
        { count: 3 },
        { onData: (v) => values.push(v), onComplete: () => resolve() },
      );
    });
    expect(values).toEqual([0, 1, 2]);
  });

  it('closes with 1013 when a slow consumer lets its send buffer grow', async () => {
    const fixture = await server({
      slowConsumerBytes: 64 * 1024,
      rateLimitPerSecond: 10_000,
      rateLimitBurst: 10_000,
    });
    const socket = await connectRaw(fixture.wsUrl, await fixture.sign('alice'));
    const closed = closeOf(socket);
    const started = nextFrame(socket);
    socket.send(
      JSON.stringify({
        id: 1,
        method: 'subscription',
        params: { path: 'channel.subscribe', input: { json: { channel: 'chat:big' } } },
      }),
    );
    await started;
    // Stop reading: the kernel buffers fill, then ws's bufferedAmount grows past the mark.
    (socket as unknown as { _socket: import('node:net').Socket })._socket.pause();
    const text = 'x'.repeat(1900);
    for (let i = 0; i < 2000 && fixture.server.registry.size > 0; i++) {
      await fixture.server.publish('chat:big', 'message', { text });
    }
    (socket as unknown as { _socket: import('node:net').Socket })._socket.resume();
    expect((await closed).code).toBe(CloseCode.TRY_AGAIN_LATER);
  });

  it('ends a connection whose token expires with the terminal code 4501, unless refreshed in-band', async () => {
    const fixture = await server();
    const shortLived = await fixture.sign('alice', { expiresInSec: 1 });
    const expiring = await connectRaw(fixture.wsUrl, shortLived);
    const refreshed = connectTrpc(fixture.wsUrl, await fixture.sign('bob', { expiresInSec: 1 }));
    track(refreshed, (c) => c.close());
    await refreshed.trpc.auth.refresh.mutate({ token: await fixture.sign('bob', { expiresInSec: 60 }) });
    const closed = await closeOf(expiring);
    expect(closed).toEqual({ code: CloseCode.TOKEN_EXPIRED, reason: CloseReason.TOKEN_EXPIRED });
    expect(await refreshed.trpc.whoami.query()).toMatchObject({ userId: 'bob' });
  });

  it("refuses an in-band refresh with another user's token", async () => {
    const fixture = await server();
    const client = track(connectTrpc(fixture.wsUrl, await fixture.sign('alice')), (c) => c.close());
    const error = await client.trpc.auth.refresh
      .mutate({ token: await fixture.sign('mallory') })
      .catch((e: unknown) => e);
    expect((error as TRPCClientError<never>).data).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('empties the registry when every client has left', async () => {
    const fixture = await server();
    const clients = await Promise.all(
      ['a', 'b', 'c'].map(async (user) => connectTrpc(fixture.wsUrl, await fixture.sign(user))),
    );
    await Promise.all(clients.map((c) => c.trpc.whoami.query()));
    expect(fixture.server.registry.size).toBe(3);
    await Promise.all(clients.map((c) => c.close()));
    await until(() => fixture.server.registry.size === 0 && fixture.server.metrics.stats.connections === 0);
  });
});
