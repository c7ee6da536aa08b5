import { type Envelope, isSwitchboardError, type SwitchboardError } from '@switchboard/protocol';
import { chatChannel, userChannel } from '@switchboard/protocol/demo';
import { type Broker, createMemoryBroker } from '@switchboard/server';
import { useCleanup } from '@switchboard/server/testing';
import { describe, expect, it } from 'vitest';
import { recordingWebSocket } from './__tests__/recordingWebSocket.ts';
import { testClient } from './__tests__/testClient.ts';
import { signToken, startTestServer, until } from './__tests__/testServer.ts';
import { collector } from './__tests__/waitFor.ts';
import type { ChannelStatus } from './channelSession.ts';

const track = useCleanup();

async function setup() {
  const fixture = track(await startTestServer(), (f) => f.close());
  const alice = track(testClient({ url: fixture.wsUrl, getToken: () => signToken('alice') }), (c) =>
    c.close(),
  );
  return { fixture, alice };
}

describe('#publish', () => {
  it('resolves with the event id and correlation id, which the delivered event carries', async () => {
    const { alice } = await setup();
    const room = alice.channel(chatChannel, 'room');
    const events = collector<Envelope>();
    const statuses = collector<ChannelStatus>();
    room.subscribe({ onEvent: (event) => events.push(event), onStatus: (status) => statuses.push(status) });
    await until(() => statuses.items.includes('live'), 'live');

    const result = await room.publish('message', { text: 'hello' });
    expect(result).toEqual({ id: expect.any(String), correlationId: expect.any(String) });
    const [event] = await events.waitFor(1);
    expect(event).toEqual({
      id: result.id,
      correlationId: result.correlationId,
      type: 'message',
      channel: 'chat:room',
      payload: { text: 'hello' },
      sender: { userId: 'alice', name: 'alice' },
      ts: expect.any(Number),
    });
  });

  it('sends a correlation id chosen by the caller', async () => {
    const { alice } = await setup();
    const room = alice.channel(chatChannel, 'room');
    const result = await room.publish('message', { text: 'mine' }, { correlationId: 'local-1' });
    expect(result).toEqual({ id: expect.any(String), correlationId: 'local-1' });
    await expect(room.publish('message', { text: 'x' }, { correlationId: '' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  it('resolves without an id for ephemeral events, which are not stored', async () => {
    const { alice } = await setup();
    const result = await alice.channel(chatChannel, 'room').publish('typing', { typing: true });
    expect(result).toEqual({ correlationId: expect.any(String) });
  });

  it('rejects an invalid payload with INVALID_PAYLOAD before sending anything', async () => {
    const { fixture, alice } = await setup();
    await alice.trpc.whoami.query();
    const framesBefore = fixture.server.metrics.stats.messagesReceived;
    const error = await alice
      .channel(chatChannel, 'room')
      .publish('message', { text: '' })
      .catch((e: unknown) => e);
    expect(isSwitchboardError(error)).toBe(true);
    expect(error).toMatchObject({
      code: 'INVALID_PAYLOAD',
      message: expect.stringMatching(/^invalid message payload at text: /),
    });
    expect(fixture.server.metrics.stats.messagesReceived).toBe(framesBefore);
  });

  it('rejects event types the definition does not let clients publish', async () => {
    const { alice } = await setup();
    const inbox = alice.channel(userChannel, 'alice');
    // Bypass the types to check the run-time guard.
    const publish = inbox.publish as (type: string, payload: unknown) => Promise<unknown>;
    await expect(publish('notice', { text: 'x' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(publish('nope', {})).rejects.toMatchObject({ code: 'UNKNOWN_EVENT_TYPE' });
  });
});

describe('#publish idempotency', () => {
  it('sends a fresh idempotency key per publish, or the one the app gives', async () => {
    const fixture = track(await startTestServer(), (f) => f.close());
    const wire = recordingWebSocket();
    const alice = track(
      testClient({ url: fixture.wsUrl, getToken: () => signToken('alice'), WebSocket: wire.WebSocket }),
      (c) => c.close(),
    );
    const room = alice.channel(chatChannel, 'room');
    await room.publish('message', { text: 'one' });
    await room.publish('message', { text: 'two' });
    await room.publish('message', { text: 'three' }, { idempotencyKey: 'app-key-1' });
    const keys = wire.inputsOf('channel.publish').map((input) => input?.idempotencyKey);
    expect(keys).toEqual([expect.any(String), expect.any(String), 'app-key-1']);
    expect(keys[0]).not.toBe(keys[1]);
    // The app's own retry with its key: the same event, not a conflict.
    const first = await room.publish('message', { text: 'four' }, { idempotencyKey: 'app-key-2' });
    const retried = await room.publish('message', { text: 'four' }, { idempotencyKey: 'app-key-2' });
    expect(retried.id).toBe(first.id);
    await expect(room.publish('message', { text: 'x' }, { idempotencyKey: '' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: 'chat:room: invalid idempotencyKey ""',
    });
  });

  it('resends with the same key when the acknowledgement was lost (socket dropped after the server stored)', async () => {
    let dropAfterStore: (() => void) | undefined;
    const inner = createMemoryBroker();
    // The first stored publish loses its acknowledgement: every socket drops right after the store.
    const broker: Broker = Object.assign(Object.create(inner) as Broker, {
      async publish(...args: Parameters<Broker['publish']>) {
        const stored = await inner.publish(...args);
        const drop = dropAfterStore;
        dropAfterStore = undefined;
        drop?.();
        return stored;
      },
    });
    const fixture = track(await startTestServer({ broker }), (f) => f.close());
    dropAfterStore = () => fixture.dropConnections();
    const wire = recordingWebSocket();
    const alice = track(
      testClient({ url: fixture.wsUrl, getToken: () => signToken('alice'), WebSocket: wire.WebSocket }),
      (c) => c.close(),
    );
    const result = await alice.channel(chatChannel, 'room').publish('message', { text: 'once' });
    expect(result.id).toEqual(expect.any(String));
    const sent = wire.inputsOf('channel.publish');
    expect(sent).toHaveLength(2);
    expect(sent[1]).toEqual(sent[0]);
    expect(sent[0]).toMatchObject({
      idempotencyKey: expect.any(String),
      correlationId: result.correlationId,
    });
    // The server answered the resend with the first one's id: the event is stored once.
    const bob = track(testClient({ url: fixture.wsUrl, getToken: () => signToken('bob') }), (c) => c.close());
    const history = collector<Envelope>();
    bob.channel(chatChannel, 'room').subscribe({ replay: 10, onEvent: (event) => history.push(event) });
    await bob.channel(chatChannel, 'room').publish('message', { text: 'end' });
    const texts = (await history.waitFor(2)).map((event) => (event.payload as { text: string }).text);
    expect(texts).toEqual(['once', 'end']);
    expect(history.items[0]?.id).toBe(result.id);
  });
});

describe('#subscribe', () => {
  it('reports a refused subscription as status `error` with the server code', async () => {
    const { alice } = await setup();
    const errors = collector<SwitchboardError>();
    const statuses = collector<ChannelStatus>();
    alice.channel(userChannel, 'bob').subscribe({
      onError: (error) => errors.push(error),
      onStatus: (status) => statuses.push(status),
    });
    const [error] = await errors.waitFor(1);
    expect(error).toMatchObject({ name: 'SwitchboardError', code: 'FORBIDDEN' });
    expect(statuses.items).toEqual(['subscribing', 'error']);
  });

  it('rejects an invalid replay and an invalid channel key', async () => {
    const { alice } = await setup();
    expect(() => alice.channel(chatChannel, 'room').subscribe({ replay: 1001 })).toThrow(/replay must be/);
    expect(() => alice.channel(chatChannel, 'two words')).toThrow(
      expect.objectContaining({ code: 'BAD_REQUEST' }) as Error,
    );
  });
});

describe('#setPresence', () => {
  it('resolves once applied, even when called before the subscription is live', async () => {
    const { alice } = await setup();
    const room = alice.channel(chatChannel, 'room');
    room.subscribe({});
    await room.setPresence({ status: 'here' });
    expect(await room.presence()).toEqual([
      { userId: 'alice', name: 'alice', connections: 1, meta: { status: 'here' } },
    ]);
  });

  it("passes on the server's refusal when nothing subscribed to the channel", async () => {
    const { alice } = await setup();
    await expect(alice.channel(chatChannel, 'elsewhere').setPresence({ a: 1 })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: 'subscribe to chat:elsewhere before setting presence there',
    });
  });
});
