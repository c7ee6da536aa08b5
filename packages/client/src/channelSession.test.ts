import type { Envelope, Gap, PresenceMember } from '@switchboard/protocol';
import { chatChannel } from '@switchboard/protocol/demo';
import { createMemoryBroker } from '@switchboard/server';
import { describe, expect, it } from 'vitest';
import { useCleanup } from './__tests__/cleanup.ts';
import { testClient } from './__tests__/testClient.ts';
import { type TestServer, signToken, startTestServer, until } from './__tests__/testServer.ts';
import { collector, stateMatching } from './__tests__/waitFor.ts';
import type { ChannelStatus } from './channelSession.ts';
import type { SwitchboardClient } from './createSwitchboardClient.ts';

const track = useCleanup();

function client(fixture: Pick<TestServer, 'wsUrl'>, userId: string): SwitchboardClient {
  return track(testClient({ url: fixture.wsUrl, getToken: () => signToken(userId) }), (c) => c.close());
}

async function server(options: Parameters<typeof startTestServer>[0] = {}) {
  return track(await startTestServer(options), (f) => f.close());
}

/** Subscribes and resolves once the subscription is live, with its events, gaps and statuses. */
async function listen(subscriber: SwitchboardClient, key: string, replay = 0) {
  const events = collector<Envelope>();
  const gaps = collector<Gap>();
  const statuses = collector<ChannelStatus>();
  const unsubscribe = subscriber.channel(chatChannel, key).subscribe({
    replay,
    onEvent: (event) => events.push(event),
    onGap: (gap) => gaps.push(gap),
    onStatus: (status) => statuses.push(status),
  });
  await until(() => statuses.items.includes('live'), 'live');
  return { events, gaps, statuses, unsubscribe };
}

const texts = (events: Envelope[]) => events.map((event) => (event.payload as { text: string }).text);
const ids = (events: Envelope[]) => events.map((event) => event.id);

describe('shared subscription', () => {
  it('gives two subscribers of one channel one server subscription; the last unsubscribe stops it', async () => {
    const fixture = await server();
    const alice = client(fixture, 'alice');
    const first = await listen(alice, 'room');
    const second = await listen(alice, 'room');
    expect(fixture.subscriptions()).toBe(1);

    await alice.channel(chatChannel, 'room').publish('message', { text: 'one' });
    await first.events.waitFor(1);
    await second.events.waitFor(1);
    expect(texts(first.events.items)).toEqual(['one']);
    expect(texts(second.events.items)).toEqual(['one']);

    first.unsubscribe();
    first.unsubscribe();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fixture.subscriptions()).toBe(1);
    second.unsubscribe();
    await until(() => fixture.subscriptions() === 0, 'the server subscription to stop');
  });

  it('subscribes again after the last unsubscribe, with a fresh server subscription', async () => {
    const fixture = await server();
    const alice = client(fixture, 'alice');
    (await listen(alice, 'room')).unsubscribe();
    await until(() => fixture.subscriptions() === 0, 'stopped');
    const again = await listen(alice, 'room');
    expect(fixture.subscriptions()).toBe(1);
    await alice.channel(chatChannel, 'room').publish('message', { text: 'again' });
    expect(texts(await again.events.waitFor(1))).toEqual(['again']);
  });
});

describe('replay', () => {
  it('delivers the last N stored events first, oldest first, then live ones', async () => {
    const fixture = await server();
    const bob = client(fixture, 'bob');
    const room = bob.channel(chatChannel, 'room');
    for (const text of ['e1', 'e2', 'e3', 'e4', 'e5']) await room.publish('message', { text });
    await room.publish('typing', { typing: true });

    const alice = client(fixture, 'alice');
    const first = await listen(alice, 'room', 3);
    await room.publish('message', { text: 'e6' });
    expect(texts(await first.events.waitFor(4))).toEqual(['e3', 'e4', 'e5', 'e6']);

    // A later subscriber on the same client shares the subscription and replays from what it received.
    const later = await listen(alice, 'room', 2);
    expect(texts(await later.events.waitFor(2))).toEqual(['e5', 'e6']);
    expect(fixture.subscriptions()).toBe(1);
  });
});

describe('presence', () => {
  it('loads the member list, then follows joins, metadata and leaves', async () => {
    const fixture = await server();
    const alice = client(fixture, 'alice');
    let members: readonly PresenceMember[] = [];
    alice.channel(chatChannel, 'room').subscribe({ onPresence: (list) => (members = list) });
    const names = () => members.map((member) => member.userId).sort();
    await until(() => names().join() === 'alice', 'alice alone');

    const bob = client(fixture, 'bob');
    const bobRoom = bob.channel(chatChannel, 'room');
    const unsubscribeBob = bobRoom.subscribe({});
    await until(() => names().join() === 'alice,bob', 'bob joined');
    await bobRoom.setPresence({ status: 'away' });
    await until(() => members.find((m) => m.userId === 'bob')?.meta?.status === 'away', 'bob away');
    expect(await alice.channel(chatChannel, 'room').presence()).toHaveLength(2);

    unsubscribeBob();
    await until(() => names().join() === 'alice', 'bob left');
  });

  it('sets presence metadata again after a reconnect (a new connection starts without it)', async () => {
    const fixture = await server();
    const alice = client(fixture, 'alice');
    const aliceRoom = alice.channel(chatChannel, 'room');
    aliceRoom.subscribe({});
    await aliceRoom.setPresence({ status: 'busy' });

    const bob = client(fixture, 'bob');
    let members: readonly PresenceMember[] = [];
    bob.channel(chatChannel, 'room').subscribe({ onPresence: (list) => (members = list) });
    const aliceStatus = () => members.find((m) => m.userId === 'alice')?.meta?.status;
    await until(() => aliceStatus() === 'busy', 'alice busy');

    // Only alice's connection drops; bob sees her leave and come back with her metadata.
    for (const connection of fixture.server.registry.byUser('alice')) connection.socket.terminate();
    await until(() => aliceStatus() === undefined, 'alice gone');
    await until(() => aliceStatus() === 'busy', 'alice busy again');
  });
});

describe('resume', () => {
  it('after a dropped connection, delivers what was published meanwhile exactly once, in order', async () => {
    const fixture = await server();
    const alice = client(fixture, 'alice');
    const room = await listen(alice, 'room');
    await alice.channel(chatChannel, 'room').publish('message', { text: 'm1' });
    await room.events.waitFor(1);

    fixture.dropConnections();
    // Published while alice's socket is being torn down: she can only get these by resuming.
    for (const text of ['m2', 'm3', 'm4']) await fixture.server.publish('chat:room', 'message', { text });
    await stateMatching(alice, (s) => s.status === 'reconnecting', 'reconnecting');
    await stateMatching(alice, (s) => s.status === 'open', 'open again');
    await alice.channel(chatChannel, 'room').publish('message', { text: 'm5' });

    const events = await room.events.waitFor(5);
    expect(texts(events)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    expect(new Set(ids(events)).size).toBe(5);
    expect(room.gaps.items).toEqual([]);
    expect(room.statuses.items).toEqual(['subscribing', 'live', 'resuming', 'live']);
  });

  it('after the server restarts on the same port with history kept, delivers every event exactly once in order', async () => {
    const broker = createMemoryBroker();
    const first = await startTestServer({ broker });
    const { port } = first;
    let closeFirst: Promise<void> | undefined;
    track(first, () => closeFirst ?? first.close());
    const alice = client(first, 'alice');
    const bob = client(first, 'bob');
    const room = await listen(alice, 'room');
    for (const text of ['e1', 'e2']) await bob.channel(chatChannel, 'room').publish('message', { text });
    await room.events.waitFor(2);

    closeFirst = first.close();
    await closeFirst;
    await stateMatching(alice, (s) => s.status === 'reconnecting', 'reconnecting');
    // The server is down: these reach the broker's history only.
    for (const text of ['e3', 'e4', 'e5']) await first.server.publish('chat:room', 'message', { text });

    await server({ broker, port });
    await stateMatching(alice, (s) => s.status === 'open', 'alice back');
    await until(() => room.statuses.items.at(-1) === 'live', 'live again');
    await bob.channel(chatChannel, 'room').publish('message', { text: 'e6' });

    const events = await room.events.waitFor(6);
    expect(texts(events)).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', 'e6']);
    expect(new Set(ids(events)).size).toBe(6);
    // e6 came last, so any repeat of e3-e5 would already be here.
    expect(room.events.items).toHaveLength(6);
    expect(room.gaps.items).toEqual([]);
  });

  it('reports a gap when the restarted server lost the history, then continues live', async () => {
    const first = await startTestServer();
    const { port } = first;
    let closeFirst: Promise<void> | undefined;
    track(first, () => closeFirst ?? first.close());
    const alice = client(first, 'alice');
    const room = await listen(alice, 'room');
    const { id: lastEventId } = await alice.channel(chatChannel, 'room').publish('message', { text: 'before' });
    await room.events.waitFor(1);

    closeFirst = first.close();
    await closeFirst;
    // A new broker: new epoch, empty history.
    const second = await server({ port });
    const [gap] = await room.gaps.waitFor(1);
    expect(gap).toEqual({ recovered: false, reason: 'epoch-changed', lastEventId });

    await until(() => room.statuses.items.at(-1) === 'live', 'live again');
    await second.server.publish('chat:room', 'message', { text: 'after' });
    expect(texts(await room.events.waitFor(2))).toEqual(['before', 'after']);
  });
});
