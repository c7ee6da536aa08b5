import type { Envelope, PresenceChange } from '@switchboard/protocol';
import { describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { useCleanup } from './__tests__/lifecycle.ts';
import { connectRaw, connectTrpc, startTestServer, until } from './__tests__/testServer.ts';
import type { Broker } from './broker/broker.ts';
import { createMemoryBroker } from './broker/memory.ts';

const track = useCleanup();

function presenceChanges(events: Envelope[]): { action: string; userId: string }[] {
  return events
    .filter((e) => e.type === '$presence')
    .map((e) => {
      const change = e.payload as PresenceChange;
      return { action: change.action, userId: change.member.userId };
    });
}

function subscribeRaw(socket: WebSocket, channel: string) {
  socket.send(
    JSON.stringify({
      id: 1,
      method: 'subscription',
      params: { path: 'channel.subscribe', input: { json: { channel } } },
    }),
  );
}

/** Subscribes with the official client and waits for the subscriber's own join, so later changes are seen. */
async function subscribeUntilJoined(
  client: ReturnType<typeof connectTrpc>,
  channel: string,
): Promise<Envelope[]> {
  const events: Envelope[] = [];
  client.trpc.channel.subscribe.subscribe({ channel }, { onData: (item) => events.push(item.data) });
  await until(() => presenceChanges(events).length === 1);
  return events;
}

describe('presence', () => {
  it('tells members about joins and leaves, counting connections per user', async () => {
    const fixture = track(await startTestServer(), (f) => f.close());
    const alice = track(connectTrpc(fixture.wsUrl, await fixture.sign('alice')), (c) => c.close());
    const events = await subscribeUntilJoined(alice, 'chat:room');

    const bobToken = await fixture.sign('bob');
    const bobTabs = [await connectRaw(fixture.wsUrl, bobToken), await connectRaw(fixture.wsUrl, bobToken)];
    for (const tab of bobTabs) subscribeRaw(tab, 'chat:room');
    await until(() => presenceChanges(events).some((c) => c.userId === 'bob'));
    await until(() => fixture.server.metrics.stats.subscriptions === 3);
    const { members: all } = await alice.trpc.channel.presence.query({ channel: 'chat:room' });
    expect(all.map((m) => [m.userId, m.connections]).sort()).toEqual([
      ['alice', 1],
      ['bob', 2],
    ]);

    bobTabs[0]!.close();
    await until(() => fixture.server.metrics.stats.subscriptions === 2);
    // One of two tabs leaving: bob is still here, and watchers see his count as presence() does.
    await until(() => presenceChanges(events).filter((c) => c.userId === 'bob').length === 3);
    expect(presenceChanges(events).filter((c) => c.userId === 'bob')).toEqual([
      { action: 'join', userId: 'bob' },
      { action: 'update', userId: 'bob' },
      { action: 'update', userId: 'bob' },
    ]);
    const counts = events
      .filter((e) => e.type === '$presence' && (e.payload as PresenceChange).member.userId === 'bob')
      .map((e) => (e.payload as PresenceChange).member.connections);
    expect(counts).toEqual([1, 2, 1]);
    bobTabs[1]!.close();
    await until(() => presenceChanges(events).some((c) => c.action === 'leave' && c.userId === 'bob'));
    const { members: after } = await alice.trpc.channel.presence.query({ channel: 'chat:room' });
    expect(after.map((m) => m.userId)).toEqual(['alice']);
  });

  it('publishes metadata updates (e.g. typing) to members', async () => {
    const fixture = track(await startTestServer(), (f) => f.close());
    const alice = track(connectTrpc(fixture.wsUrl, await fixture.sign('alice')), (c) => c.close());
    const events = await subscribeUntilJoined(alice, 'chat:room');
    await alice.trpc.channel.setPresence.mutate({ channel: 'chat:room', meta: { typing: true } });
    await until(() => presenceChanges(events).some((c) => c.action === 'update'));
    const { members } = await alice.trpc.channel.presence.query({ channel: 'chat:room' });
    expect(members[0]?.meta).toEqual({ typing: true });
    const outsider = await alice.trpc.channel.setPresence
      .mutate({ channel: 'chat:elsewhere', meta: {} })
      .catch((e) => e);
    expect(outsider.data).toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('removes a connection that died without a close frame once the heartbeat times out', async () => {
    const fixture = track(await startTestServer({ heartbeatIntervalMs: 50, heartbeatTimeoutMs: 100 }), (f) =>
      f.close(),
    );
    const alice = track(connectTrpc(fixture.wsUrl, await fixture.sign('alice')), (c) => c.close());
    const events = await subscribeUntilJoined(alice, 'chat:room');
    const ghost = await connectRaw(fixture.wsUrl, await fixture.sign('ghost'));
    subscribeRaw(ghost, 'chat:room');
    await until(() => presenceChanges(events).some((c) => c.userId === 'ghost'));
    // The peer vanishes without a FIN or close frame: it simply stops reading (and so stops ponging).
    (ghost as unknown as { _socket: import('node:net').Socket })._socket.pause();
    await until(
      () => presenceChanges(events).some((c) => c.action === 'leave' && c.userId === 'ghost'),
      5000,
      'ghost leave',
    );
    expect(fixture.server.registry.byUser('ghost')).toEqual([]);
    expect(fixture.server.registry.byUser('alice')).toHaveLength(1);
    ghost.terminate();
  });
});

describe('presence metadata', () => {
  it('keeps metadata set while the subscription is still catching up (slow history)', async () => {
    const broker = createMemoryBroker();
    const slowHistory: Broker = {
      ...broker,
      presence: broker.presence,
      compareIds: broker.compareIds,
      history: async (channel, query) => {
        await new Promise((resolve) => setTimeout(resolve, 100));
        return broker.history(channel, query);
      },
    };
    const fixture = track(await startTestServer({ broker: slowHistory }), (f) => f.close());
    const alice = track(connectTrpc(fixture.wsUrl, await fixture.sign('alice')), (c) => c.close());
    await new Promise<void>((resolve) => {
      alice.trpc.channel.subscribe.subscribe(
        { channel: 'chat:room', replay: 5 },
        { onStarted: () => resolve() },
      );
    });
    await alice.trpc.channel.setPresence.mutate({ channel: 'chat:room', meta: { typing: true } });
    await until(() => fixture.server.metrics.stats.subscriptions === 1);
    let members: { meta?: object }[] = [];
    for (let i = 0; i < 50 && members.length === 0; i++) {
      members = (await alice.trpc.channel.presence.query({ channel: 'chat:room' })).members;
      if (members.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(members[0]?.meta).toEqual({ typing: true });
  });
});

describe('presence is opt-in per channel family', () => {
  it('announces nothing and answers BAD_REQUEST on a family without presence', async () => {
    const fixture = track(await startTestServer(), (f) => f.close());
    const alice = track(connectTrpc(fixture.wsUrl, await fixture.sign('alice')), (c) => c.close());
    const events: Envelope[] = [];
    alice.trpc.channel.subscribe.subscribe(
      { channel: 'user:alice' },
      { onData: (item) => events.push(item.data) },
    );
    await until(() => events.some((e) => e.type === '$live'));
    await fixture.server.sendToUser('alice', 'notice', { text: 'hi' });
    await until(() => events.some((e) => e.type === 'notice'));
    expect(presenceChanges(events)).toEqual([]);
    const query = await alice.trpc.channel.presence.query({ channel: 'user:alice' }).catch((e) => e);
    expect(query.data).toMatchObject({ code: 'BAD_REQUEST' });
    const update = await alice.trpc.channel.setPresence
      .mutate({ channel: 'user:alice', meta: {} })
      .catch((e) => e);
    expect(update.data).toMatchObject({ code: 'BAD_REQUEST' });
  });
});
