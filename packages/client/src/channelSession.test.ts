import {
  type Envelope,
  ErrorCode,
  type Gap,
  type PresenceMember,
  SwitchboardError,
} from '@switchboard/protocol';
import { chatChannel } from '@switchboard/protocol/demo';
import { createMemoryBroker } from '@switchboard/server';
import { useCleanup } from '@switchboard/server/testing';
import { describe, expect, it } from 'vitest';
import { flakyBroker } from './__tests__/flakyBroker.ts';
import { recordingWebSocket } from './__tests__/recordingWebSocket.ts';
import { fastBackoff, testClient } from './__tests__/testClient.ts';
import { signToken, startTestServer, type TestServer, until } from './__tests__/testServer.ts';
import { collector, stateMatching } from './__tests__/waitFor.ts';
import { createCallOrder } from './callOrder.ts';
import type { ChannelProcedures, ChannelStreamObserver } from './channelProcedures.ts';
import { type ChannelStatus, createChannelSession } from './channelSession.ts';
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

describe('replay of a subscription that never started', () => {
  // The attack (repro_replay_resend_loses_events): e0 stored, subscribe with replay 1, the subscribe frame
  // is lost with its socket, e1-e5 are published, the client subscribes again with replay 1 and receives
  // e5, e6: e1-e4 skipped without a word. The client cannot know where a subscription that never started
  // stood, so it says so: a gap `not-started` before what the new attempt delivers.
  it('reports a `not-started` gap before the events of a replay sent again, then continues live in order', async () => {
    const fixture = await server();
    const bob = client(fixture, 'bob');
    const room = bob.channel(chatChannel, 'replay-lost');
    await room.publish('message', { text: 'e0' });

    const recorder = recordingWebSocket();
    const alice = track(
      testClient({ url: fixture.wsUrl, getToken: () => signToken('alice'), WebSocket: recorder.WebSocket }),
      (c) => c.close(),
    );
    await stateMatching(alice, (s) => s.status === 'open', 'open');
    recorder.loseNextFrameOf('channel.subscribe', 300);
    const log: string[] = [];
    const gaps: Gap[] = [];
    const live = collector<ChannelStatus>();
    alice.channel(chatChannel, 'replay-lost').subscribe({
      replay: 1,
      onEvent: (event) => log.push((event.payload as { text: string }).text),
      onGap: (gap) => {
        gaps.push(gap);
        log.push(`gap:${gap.reason}`);
      },
      onStatus: (status) => status === 'live' && live.push(status),
    });
    await until(() => recorder.inputsOf('channel.subscribe').length === 1, 'the lost subscribe frame');
    for (const text of ['e1', 'e2', 'e3', 'e4', 'e5']) await room.publish('message', { text });
    await live.waitFor(1, 'live after the resend');
    await room.publish('message', { text: 'e6' });
    await until(() => log.includes('e6'), 'e6');
    expect(gaps).toEqual([{ recovered: false, reason: 'not-started', lastEventId: '' }]);
    expect(log[0]).toBe('gap:not-started');
    // After the gap: the newest stored event (replay 1 now), then live, in order and once each.
    expect(log.slice(1)).toEqual(['e5', 'e6']);
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

  it('resumes a subscription that never received an event from the position `$live` reported', async () => {
    const fixture = await server();
    const alice = client(fixture, 'alice');
    // A channel with history: `$live` positions a fresh subscriber on its newest event.
    await fixture.server.publish('chat:room', 'message', { text: 'before subscribing' });
    const room = await listen(alice, 'room');

    fixture.dropConnections();
    for (const text of ['m1', 'm2']) await fixture.server.publish('chat:room', 'message', { text });
    await stateMatching(alice, (s) => s.status === 'reconnecting', 'reconnecting');
    await stateMatching(alice, (s) => s.status === 'open', 'open again');
    await until(() => room.statuses.items.length === 4, 'live again');
    await fixture.server.publish('chat:room', 'message', { text: 'm3' });

    const events = await room.events.waitFor(3);
    expect(texts(events)).toEqual(['m1', 'm2', 'm3']);
    expect(new Set(ids(events)).size).toBe(3);
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
    const { id: lastEventId } = await alice
      .channel(chatChannel, 'room')
      .publish('message', { text: 'before' });
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

describe('retry', () => {
  /** A subscription whose first `failures` attempts the server refuses with `code`, counting attempts. */
  async function refusedAtFirst(code: ErrorCode, failures: number) {
    let attempts = 0;
    const fixture = await server({
      overrides: {
        canSubscribe: () => {
          attempts++;
          if (attempts <= failures) throw new SwitchboardError(code, `refused (${attempts})`);
          return true;
        },
      },
    });
    const errors = collector<SwitchboardError>();
    const statuses = collector<ChannelStatus>();
    // The member list loaded once live asks `canSubscribe` too: count the subscribe attempts before it.
    let attemptsBeforeLive: number | undefined;
    client(fixture, 'alice')
      .channel(chatChannel, 'room')
      .subscribe({
        onError: (error) => errors.push(error),
        onStatus: (status) => {
          if (status === 'live') attemptsBeforeLive ??= attempts;
          statuses.push(status);
        },
      });
    return { fixture, errors, statuses, attempts: () => attemptsBeforeLive ?? attempts };
  }

  it.each([ErrorCode.BROKER_UNAVAILABLE, ErrorCode.INTERNAL, ErrorCode.RATE_LIMITED])(
    'retries a subscription refused with %s, with backoff, until it is live',
    async (code) => {
      const { errors, statuses, attempts } = await refusedAtFirst(code, 2);
      await until(() => statuses.items.includes('live'), 'live');
      expect(attempts()).toBe(3);
      expect(errors.items.map((error) => error.code)).toEqual([code, code]);
      // Still joining while retried: `error` is for refusals that retrying cannot fix.
      expect(statuses.items).toEqual(['subscribing', 'live']);
    },
  );

  it.each([ErrorCode.FORBIDDEN, ErrorCode.BAD_REQUEST, ErrorCode.UNAUTHORIZED])(
    'does not retry a subscription refused with %s',
    async (code) => {
      const { errors, statuses, attempts } = await refusedAtFirst(code, 1);
      await statuses.waitFor(2, 'error');
      // The first retries would come within 20, 40, 80 ms (fastBackoff): 200 ms allows several.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(attempts()).toBe(1);
      expect(errors.items.map((error) => error.code)).toEqual([code]);
      expect(statuses.items).toEqual(['subscribing', 'error']);
    },
  );

  it('retries while the broker cannot subscribe, then delivers events', async () => {
    const flaky = flakyBroker(3);
    const fixture = await server({ broker: flaky.broker });
    const alice = client(fixture, 'alice');
    const errors = collector<SwitchboardError>();
    const statuses = collector<ChannelStatus>();
    const events = collector<Envelope>();
    alice.channel(chatChannel, 'room').subscribe({
      onEvent: (event) => events.push(event),
      onError: (error) => errors.push(error),
      onStatus: (status) => statuses.push(status),
    });
    await until(() => statuses.items.includes('live'), 'live');
    expect(flaky.subscribeCalls).toBe(4);
    expect(errors.items.map((error) => error.code)).toEqual(Array(3).fill('BROKER_UNAVAILABLE'));
    expect(statuses.items).toEqual(['subscribing', 'live']);
    expect(fixture.subscriptions()).toBe(1);

    await fixture.server.publish('chat:room', 'message', { text: 'hello' });
    expect(texts(await events.waitFor(1))).toEqual(['hello']);
  });

  it('retries a resume the broker failed after a reconnect, from where it was: nothing lost or repeated', async () => {
    const flaky = flakyBroker();
    const fixture = await server({ broker: flaky.broker });
    const alice = client(fixture, 'alice');
    const room = await listen(alice, 'room');
    const view = alice.channel(chatChannel, 'room').view({ maxEvents: 0 });
    track(
      view.subscribe(() => {}),
      (unsubscribe) => unsubscribe(),
    );
    await fixture.server.publish('chat:room', 'message', { text: 'm1' });
    await room.events.waitFor(1);

    flaky.failures = 1_000;
    fixture.dropConnections();
    for (const text of ['m2', 'm3']) await fixture.server.publish('chat:room', 'message', { text });
    await until(() => flaky.subscribeCalls >= 3, 'two failed resumes');
    // While retried, a view shows why the channel is not live.
    expect(view.getSnapshot()).toMatchObject({ status: 'resuming', error: { code: 'BROKER_UNAVAILABLE' } });
    flaky.failures = 0;
    await until(() => room.statuses.items.at(-1) === 'live', 'live again');
    expect(view.getSnapshot()).toMatchObject({ status: 'live', error: null });
    await fixture.server.publish('chat:room', 'message', { text: 'm4' });

    const events = await room.events.waitFor(4);
    expect(texts(events)).toEqual(['m1', 'm2', 'm3', 'm4']);
    expect(new Set(ids(events)).size).toBe(4);
    expect(room.gaps.items).toEqual([]);
    expect(room.statuses.items).toEqual(['subscribing', 'live', 'resuming', 'live']);
  });

  it('stops retrying when the client closes, and reports `closed`', async () => {
    const flaky = flakyBroker(1_000);
    const fixture = await server({ broker: flaky.broker });
    const alice = client(fixture, 'alice');
    const statuses = collector<ChannelStatus>();
    alice.channel(chatChannel, 'room').subscribe({ onStatus: (status) => statuses.push(status) });
    await until(() => flaky.subscribeCalls >= 2, 'a retry');
    await alice.close();
    await statuses.waitFor(2, 'closed');
    const calls = flaky.subscribeCalls;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(flaky.subscribeCalls).toBe(calls);
    expect(statuses.items).toEqual(['subscribing', 'closed']);
  });
});

/**
 * A scripted `channel.*` API: the test plays the server's side of one subscription frame by frame. Used
 * only for what a correct server never sends (a repeated event) and for orderings that real timing makes
 * unreliable to reproduce (presence changes arriving while the member list loads).
 */
function scriptedStream() {
  const inputs: unknown[] = [];
  let observer: ChannelStreamObserver = {};
  let resolvePresence: (members: PresenceMember[]) => void = () => {};
  const procedures: ChannelProcedures = {
    channel: {
      subscribe: {
        subscribe(input, next) {
          inputs.push(input);
          observer = next;
          return { unsubscribe() {} };
        },
      },
      publish: { mutate: async () => ({}) },
      presence: {
        query: () => new Promise((resolve) => (resolvePresence = (members) => resolve({ members }))),
      },
      setPresence: { mutate: async () => undefined },
    },
  };
  const session = createChannelSession({
    channel: 'chat:room',
    procedures,
    isStopped: () => false,
    enqueue: createCallOrder().enqueue,
    callTimeoutMs: 1_000,
    unsubscribeDelayMs: 0,
    backoff: fastBackoff,
    onDisposed() {},
  });
  /** The tracked id the server puts on frames: the last stored event's id (none after `$gap`). */
  let trackedId: string | undefined;
  const event = (id: string | undefined, text: string): Envelope => ({
    ...(id ? { id } : {}),
    type: id ? 'message' : 'typing',
    channel: 'chat:room',
    payload: { text },
  });
  const member = (userId: string): PresenceMember => ({ userId, name: userId, connections: 1 });
  return {
    session,
    inputs,
    send(envelope: Envelope) {
      trackedId = envelope.type === '$gap' ? undefined : (envelope.id ?? trackedId);
      observer.onData?.(trackedId === undefined ? { data: envelope } : { id: trackedId, data: envelope });
    },
    /** `$live`, caught up; `position` is where the server positioned a fresh subscriber. */
    live(position?: string) {
      trackedId = position ?? trackedId;
      const envelope: Envelope = { type: '$live', channel: 'chat:room', payload: {} };
      observer.onData?.(trackedId === undefined ? { data: envelope } : { id: trackedId, data: envelope });
    },
    /** A frame with exactly this tracked id (none: `undefined`), as a given server version sends it. */
    frame(envelope: Envelope, id: string | undefined) {
      observer.onData?.(id === undefined ? { data: envelope } : { id, data: envelope });
    },
    completed: () => observer.onComplete?.(),
    event,
    member,
    presence: (action: 'join' | 'leave', userId: string): Envelope => ({
      type: '$presence',
      channel: 'chat:room',
      payload: { action, member: member(userId) },
    }),
    resolvePresence: (members: PresenceMember[]) => resolvePresence(members),
  };
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('with a scripted stream', () => {
  it('drops a stored event delivered twice, never an ephemeral one', async () => {
    const stream = scriptedStream();
    const received: Envelope[] = [];
    stream.session.add({ replay: 0, onEvent: (event) => received.push(event) });
    await flush();
    stream.live();
    for (const [id, text] of [
      ['e:1', 'a'],
      ['e:2', 'b'],
      ['e:1', 'a'],
      [undefined, 't'],
      [undefined, 't'],
      ['e:3', 'c'],
    ] as const) {
      stream.send(stream.event(id, text));
    }
    expect(received.map((event) => (event.payload as { text: string }).text)).toEqual([
      'a',
      'b',
      't',
      't',
      'c',
    ]);
  });

  it('applies presence changes that arrive while the member list loads on top of it', async () => {
    const stream = scriptedStream();
    const lists: string[][] = [];
    stream.session.add({ replay: 0, onPresence: (members) => lists.push(members.map((m) => m.userId)) });
    await flush();
    stream.live();
    stream.send(stream.presence('join', 'bob'));
    stream.send(stream.presence('leave', 'carol'));
    stream.resolvePresence([stream.member('alice'), stream.member('carol')]);
    await flush();
    stream.send(stream.presence('join', 'dave'));
    expect(lists).toEqual([
      ['alice', 'bob'],
      ['alice', 'bob', 'dave'],
    ]);
  });

  it('asks for replay once, then resumes after the last stored event when started again', async () => {
    const stream = scriptedStream();
    stream.session.add({ replay: 0 });
    stream.session.add({ replay: 50 });
    await flush();
    stream.live();
    stream.send(stream.event('e:7', 'x'));
    stream.send(stream.event(undefined, 'typing'));
    stream.completed();
    stream.session.restart();
    await flush();
    expect(stream.inputs).toEqual([
      { channel: 'chat:room', replay: 50 },
      { channel: 'chat:room', lastEventId: 'e:7' },
    ]);
  });

  it('keeps the position of every frame: `$gap` and ephemeral events move it, a frame without one does not', async () => {
    const stream = scriptedStream();
    stream.session.add({ replay: 0 });
    await flush();
    stream.live('e:3');
    const gap: Envelope = { type: '$gap', channel: 'chat:room', payload: { recovered: false } };
    stream.frame(gap, 'e:9');
    stream.frame(stream.event(undefined, 'typing'), 'e:10');
    // An older server's `$gap` carried no id: resuming from nothing would skip what follows silently.
    stream.frame(gap, undefined);
    stream.completed();
    stream.session.restart();
    await flush();
    expect(stream.inputs).toEqual([{ channel: 'chat:room' }, { channel: 'chat:room', lastEventId: 'e:10' }]);
  });

  it('resumes from the position `$live` reported when no event arrived before it started again', async () => {
    const stream = scriptedStream();
    stream.session.add({ replay: 0 });
    await flush();
    stream.live('e:3');
    stream.completed();
    stream.session.restart();
    await flush();
    expect(stream.inputs).toEqual([{ channel: 'chat:room' }, { channel: 'chat:room', lastEventId: 'e:3' }]);
  });
});
