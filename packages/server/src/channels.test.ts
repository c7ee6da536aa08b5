import type { Envelope } from '@switchboard/protocol';
import type { TRPCClientError } from '@trpc/client';
import { describe, expect, it } from 'vitest';
import { useCleanup } from './__tests__/lifecycle.ts';
import { connectTrpc, startTestServer, until } from './__tests__/testServer.ts';
import type { Broker } from './broker/broker.ts';
import { createMemoryBroker } from './broker/memory.ts';

const track = useCleanup();
const server = (overrides = {}, port = 0) =>
  startTestServer(overrides, port).then((s) => track(s, (f) => f.close()));

type Client = ReturnType<typeof connectTrpc>;
interface Received {
  events: Envelope[];
  trackedIds: (string | undefined)[];
}

/** Subscribes with the official client and collects envelopes; resolves once the server confirmed. */
async function subscribe(
  client: Client,
  input: { channel: string; lastEventId?: string; replay?: number },
): Promise<Received & { stop(): void }> {
  const received: Received = { events: [], trackedIds: [] };
  let stop = () => {};
  await new Promise<void>((resolve, reject) => {
    const sub = client.trpc.channel.subscribe.subscribe(input, {
      onStarted: () => resolve(),
      onError: reject,
      onData: (item) => {
        received.events.push(item.data);
        received.trackedIds.push(item.id);
      },
    });
    stop = () => sub.unsubscribe();
  });
  track(null, () => stop());
  return { ...received, stop };
}

const messages = (r: Received) =>
  r.events.filter((e) => e.type === 'message').map((e) => (e.payload as { text: string }).text);

describe('channels', () => {
  it('delivers to every subscriber, in publish order, with the sender stamped from the token', async () => {
    const fixture = await server();
    const alice = track(connectTrpc(fixture.wsUrl, await fixture.sign('alice', { name: 'Alice' })), (c) =>
      c.close(),
    );
    const bob = track(connectTrpc(fixture.wsUrl, await fixture.sign('bob')), (c) => c.close());
    const atAlice = await subscribe(alice, { channel: 'chat:room' });
    const atBob = await subscribe(bob, { channel: 'chat:room' });
    for (let i = 0; i < 20; i++) {
      await (i % 2 ? alice : bob).trpc.channel.publish.mutate({
        channel: 'chat:room',
        type: 'message',
        payload: { text: String(i) },
      });
    }
    await until(() => messages(atAlice).length === 20 && messages(atBob).length === 20);
    const expected = Array.from({ length: 20 }, (_, i) => String(i));
    expect(messages(atAlice)).toEqual(expected);
    expect(messages(atBob)).toEqual(expected);
    const fromAlice = atBob.events.find(
      (e) => e.type === 'message' && (e.payload as { text: string }).text === '1',
    );
    expect(fromAlice?.sender).toEqual({ userId: 'alice', name: 'Alice' });
  });

  it('ignores a sender forged in the payload and returns the correlation id with the event id', async () => {
    const fixture = await server();
    const mallory = track(connectTrpc(fixture.wsUrl, await fixture.sign('mallory')), (c) => c.close());
    const watcher = await subscribe(mallory, { channel: 'chat:room' });
    const result = await mallory.trpc.channel.publish.mutate({
      channel: 'chat:room',
      type: 'message',
      payload: { text: 'hi', sender: { userId: 'alice' } },
      correlationId: 'c-1',
    });
    expect(result).toMatchObject({ correlationId: 'c-1', id: expect.any(String) });
    await until(() => watcher.events.length > 0);
    const event = watcher.events.find((e) => e.type === 'message')!;
    expect(event.sender).toEqual({ userId: 'mallory', name: 'mallory' });
    expect(event.payload).toEqual({ text: 'hi' });
    expect(event.correlationId).toBe('c-1');
  });

  it('delivers ephemeral events live without an id and never replays them', async () => {
    const fixture = await server();
    const alice = track(connectTrpc(fixture.wsUrl, await fixture.sign('alice')), (c) => c.close());
    const live = await subscribe(alice, { channel: 'chat:room' });
    const result = await alice.trpc.channel.publish.mutate({
      channel: 'chat:room',
      type: 'typing',
      payload: { typing: true },
    });
    expect(result.id).toBeUndefined();
    await until(() => live.events.some((e) => e.type === 'typing'));
    expect(live.events.find((e) => e.type === 'typing')?.id).toBeUndefined();
    const replayed = await subscribe(alice, { channel: 'chat:room', replay: 10 });
    await alice.trpc.channel.publish.mutate({
      channel: 'chat:room',
      type: 'message',
      payload: { text: 'marker' },
    });
    await until(() => messages(replayed).includes('marker'));
    expect(replayed.events.some((e) => e.type === 'typing')).toBe(false);
  });

  it('replays the last N stored events on a fresh subscribe', async () => {
    const fixture = await server();
    const alice = track(connectTrpc(fixture.wsUrl, await fixture.sign('alice')), (c) => c.close());
    for (let i = 0; i < 5; i++) {
      await alice.trpc.channel.publish.mutate({
        channel: 'chat:room',
        type: 'message',
        payload: { text: String(i) },
      });
    }
    const late = await subscribe(alice, { channel: 'chat:room', replay: 3 });
    await until(() => messages(late).length === 3);
    expect(messages(late)).toEqual(['2', '3', '4']);
  });

  it('resumes from lastEventId with exactly the missed events, then continues live', async () => {
    const fixture = await server();
    const alice = track(connectTrpc(fixture.wsUrl, await fixture.sign('alice')), (c) => c.close());
    const publish = (text: string) =>
      alice.trpc.channel.publish.mutate({ channel: 'chat:room', type: 'message', payload: { text } });
    const first = await subscribe(alice, { channel: 'chat:room' });
    await publish('a');
    await until(() => messages(first).length === 1);
    const lastEventId = first.events.at(-1)!.id!;
    first.stop();
    await publish('b');
    await publish('c');
    const resumed = await subscribe(alice, { channel: 'chat:room', lastEventId });
    await publish('d');
    await until(() => messages(resumed).length === 3);
    expect(messages(resumed)).toEqual(['b', 'c', 'd']);
  });

  it('resumes across a server restart when the broker survives (events published while down included)', async () => {
    const broker = createMemoryBroker();
    const first = await startTestServer({ broker });
    const port = first.port;
    const token = await first.sign('alice');
    const alice = track(connectTrpc(first.wsUrl, token, { retryDelayMs: () => 20 }), (c) => c.close());
    const live = await subscribe(alice, { channel: 'chat:room' });
    await first.server.publish('chat:room', 'message', { text: '1' });
    await until(() => messages(live).length === 1);
    await first.close();
    // Published while no server is up: only the broker holds them.
    for (const text of ['2', '3']) {
      await broker.publish('chat:room', {
        type: 'message',
        ephemeral: false,
        json: JSON.stringify({ type: 'message', channel: 'chat:room', payload: { text } }),
      });
    }
    const second = await server({ broker }, port);
    await until(() => messages(live).length === 3, 10_000, 'resume after restart');
    await second.server.publish('chat:room', 'message', { text: '4' });
    await until(() => messages(live).length === 4);
    expect(messages(live)).toEqual(['1', '2', '3', '4']);
    await broker.close();
  });

  it('sends an explicit $gap when history no longer reaches back, never a partial replay', async () => {
    const fixture = await server({ broker: createMemoryBroker({ historySize: 3 }) });
    const alice = track(connectTrpc(fixture.wsUrl, await fixture.sign('alice')), (c) => c.close());
    const publish = (text: string) =>
      alice.trpc.channel.publish.mutate({ channel: 'chat:room', type: 'message', payload: { text } });
    const { id } = await publish('old');
    for (const text of ['1', '2', '3', '4']) await publish(text);
    const resumed = await subscribe(alice, { channel: 'chat:room', lastEventId: id! });
    await publish('5');
    await until(() => messages(resumed).length === 1);
    expect(resumed.events[0]).toMatchObject({
      type: '$gap',
      payload: { recovered: false, reason: 'evicted', lastEventId: id },
    });
    expect(messages(resumed)).toEqual(['5']);
  });

  it('sends $gap for an id from another epoch, then what the recreated stream holds', async () => {
    const fixture = await server();
    const alice = track(connectTrpc(fixture.wsUrl, await fixture.sign('alice')), (c) => c.close());
    await alice.trpc.channel.publish.mutate({
      channel: 'chat:room',
      type: 'message',
      payload: { text: 'after restart' },
    });
    const resumed = await subscribe(alice, { channel: 'chat:room', lastEventId: 'zzzzzzzz:5' });
    await until(() => messages(resumed).length > 0);
    expect(resumed.events[0]).toMatchObject({ type: '$gap', payload: { reason: 'epoch-changed' } });
    // Everything in the recreated stream is newer than the client's last event: it is sent after the notice.
    expect(messages(resumed)).toEqual(['after restart']);
  });

  it("keeps @trpc/client's resume id at the last stored event across ephemeral events", async () => {
    const fixture = await server();
    const alice = track(connectTrpc(fixture.wsUrl, await fixture.sign('alice')), (c) => c.close());
    const live = await subscribe(alice, { channel: 'chat:room' });
    const { id } = await alice.trpc.channel.publish.mutate({
      channel: 'chat:room',
      type: 'message',
      payload: { text: 'a' },
    });
    await alice.trpc.channel.publish.mutate({
      channel: 'chat:room',
      type: 'typing',
      payload: { typing: true },
    });
    await until(() => live.events.some((e) => e.type === 'typing'));
    expect(live.trackedIds.at(-1)).toBe(id);
  });

  describe('authorization', () => {
    it("refuses another user's private channel and server-only event types", async () => {
      const fixture = await server();
      const mallory = track(connectTrpc(fixture.wsUrl, await fixture.sign('mallory')), (c) => c.close());
      const error = await subscribe(mallory, { channel: 'user:alice' }).catch((e: unknown) => e);
      expect((error as TRPCClientError<never>).data).toMatchObject({ code: 'FORBIDDEN' });
      const own = await mallory.trpc.channel.publish
        .mutate({ channel: 'user:mallory', type: 'notice', payload: { text: 'fake' } })
        .catch((e: unknown) => e);
      expect((own as TRPCClientError<never>).data).toMatchObject({ code: 'FORBIDDEN' });
      const presence = await mallory.trpc.channel.presence
        .query({ channel: 'user:alice' })
        .catch((e: unknown) => e);
      expect((presence as TRPCClientError<never>).data).toMatchObject({ code: 'FORBIDDEN' });
    });

    it('lets a user read their own private channel, written by sendToUser', async () => {
      const fixture = await server();
      const alice = track(connectTrpc(fixture.wsUrl, await fixture.sign('alice')), (c) => c.close());
      const inbox = await subscribe(alice, { channel: 'user:alice' });
      await fixture.server.sendToUser('alice', 'notice', { text: 'hello' });
      await until(() => inbox.events.some((e) => e.type === 'notice'));
      expect(inbox.events.find((e) => e.type === 'notice')?.payload).toEqual({ text: 'hello' });
    });

    it('consults canSubscribe and canPublish hooks', async () => {
      const fixture = await server({
        canSubscribe: (_user: unknown, channel: string) => channel !== 'chat:secret',
        canPublish: (user: { userId: string }) => user.userId !== 'muted',
      });
      const muted = track(connectTrpc(fixture.wsUrl, await fixture.sign('muted')), (c) => c.close());
      const denied = await subscribe(muted, { channel: 'chat:secret' }).catch((e: unknown) => e);
      expect((denied as TRPCClientError<never>).data).toMatchObject({ code: 'FORBIDDEN' });
      const publish = await muted.trpc.channel.publish
        .mutate({ channel: 'chat:open', type: 'message', payload: { text: 'x' } })
        .catch((e: unknown) => e);
      expect((publish as TRPCClientError<never>).data).toMatchObject({ code: 'FORBIDDEN' });
    });
  });
});

describe('limits on what a client controls', () => {
  it('refuses an over-long correlationId, oversized presence metadata and over-long channel names', async () => {
    const fixture = await server();
    const alice = track(connectTrpc(fixture.wsUrl, await fixture.sign('alice')), (c) => c.close());
    await subscribe(alice, { channel: 'chat:room' });
    const attempts = [
      () =>
        alice.trpc.channel.publish.mutate({
          channel: 'chat:room',
          type: 'message',
          payload: { text: 'x' },
          correlationId: 'c'.repeat(129),
        }),
      () => alice.trpc.channel.setPresence.mutate({ channel: 'chat:room', meta: { blob: 'x'.repeat(2000) } }),
      // 500 characters, 3,008 bytes: the limit is in bytes.
      () =>
        alice.trpc.channel.setPresence.mutate({ channel: 'chat:room', meta: { blob: '一'.repeat(1000) } }),
      () =>
        alice.trpc.channel.publish.mutate({
          channel: `chat:${'r'.repeat(200)}`,
          type: 'message',
          payload: { text: 'x' },
        }),
      () =>
        alice.trpc.channel.publish.mutate({
          channel: 'chat:room',
          type: 'message',
          payload: { text: 'x'.repeat(2001) },
        }),
    ];
    for (const attempt of attempts) {
      const error = await attempt().catch((e: unknown) => e);
      expect((error as TRPCClientError<never>).data).toMatchObject({ code: 'BAD_REQUEST' });
    }
    expect(await alice.trpc.whoami.query()).toMatchObject({ userId: 'alice' });
  });
});

describe('$live', () => {
  it('marks the end of catch-up and positions a fresh subscriber at the newest stored event', async () => {
    const fixture = await server();
    const alice = track(connectTrpc(fixture.wsUrl, await fixture.sign('alice')), (c) => c.close());
    const publish = (text: string) =>
      alice.trpc.channel.publish.mutate({ channel: 'chat:room', type: 'message', payload: { text } });
    const { id } = await publish('before');
    const fresh = await subscribe(alice, { channel: 'chat:room' });
    await until(() => fresh.events.some((e) => e.type === '$live'));
    // Nothing replayed, but the resume position is already the newest event.
    expect(messages(fresh)).toEqual([]);
    expect(fresh.trackedIds[fresh.events.findIndex((e) => e.type === '$live')]).toBe(id);
    fresh.stop();
    await publish('missed');
    const resumed = await subscribe(alice, { channel: 'chat:room', lastEventId: id! });
    await until(() => resumed.events.some((e) => e.type === '$live'));
    expect(messages(resumed)).toEqual(['missed']);
  });
});

describe('live delivery lagging behind history', () => {
  it('does not deliver an event twice when its live copy arrives after history already sent it', async () => {
    // Like Redis: the stream has an event while its pub/sub message is still on the way to this instance.
    const inner = createMemoryBroker();
    const lagging: Broker = {
      ...inner,
      presence: inner.presence,
      compareIds: inner.compareIds,
      publish: (channel, event) => inner.publish(channel, event),
      history: (channel, query) => inner.history(channel, query),
      close: () => inner.close(),
      subscribe: (channel, listener) =>
        inner.subscribe(channel, (event) => setTimeout(() => listener(event), 100)),
    };
    const fixture = await server({ broker: lagging });
    const alice = track(connectTrpc(fixture.wsUrl, await fixture.sign('alice')), (c) => c.close());
    const first = await subscribe(alice, { channel: 'chat:lag' });
    const { id } = await alice.trpc.channel.publish.mutate({
      channel: 'chat:lag',
      type: 'message',
      payload: { text: 'a' },
    });
    await until(() => messages(first).length === 1);
    // `first` stays subscribed, so this instance keeps receiving the channel's (lagging) live events.
    for (const text of ['b', 'c']) {
      await alice.trpc.channel.publish.mutate({ channel: 'chat:lag', type: 'message', payload: { text } });
    }
    // Resume at once: history sends b and c while their live copies are still 100 ms away.
    const resumed = await subscribe(alice, { channel: 'chat:lag', lastEventId: id! });
    await alice.trpc.channel.publish.mutate({ channel: 'chat:lag', type: 'message', payload: { text: 'd' } });
    await until(() => messages(resumed).includes('d'));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(messages(resumed)).toEqual(['b', 'c', 'd']);
  });
});

describe('resume on an empty channel', () => {
  it('positions a subscriber of a channel with no events, so what is published while it is away arrives', async () => {
    const fixture = await server();
    const alice = track(connectTrpc(fixture.wsUrl, await fixture.sign('alice')), (c) => c.close());
    const fresh = await subscribe(alice, { channel: 'chat:brand-new' });
    await until(() => fresh.events.some((e) => e.type === '$live'));
    const position = fresh.trackedIds[fresh.events.findIndex((e) => e.type === '$live')];
    expect(position).toEqual(expect.any(String));
    fresh.stop();
    await alice.trpc.channel.publish.mutate({
      channel: 'chat:brand-new',
      type: 'message',
      payload: { text: 'first' },
    });
    const resumed = await subscribe(alice, { channel: 'chat:brand-new', lastEventId: position! });
    await until(() => messages(resumed).length === 1);
    expect(resumed.events.some((e) => e.type === '$gap')).toBe(false);
  });
});
