import { ErrorCode } from '@switchboard/protocol';
import { describe, expect, it } from 'vitest';
import { useCleanup } from './__tests__/lifecycle.ts';
import { chat, inbox, startTestServer } from './__tests__/testServer.ts';

const track = useCleanup();

async function storedEvents(server: Awaited<ReturnType<typeof startTestServer>>['server'], channel: string) {
  const history = await server.broker.history(channel, { last: 10 });
  if (!history.recovered) throw new Error(`history of ${channel} not recovered`);
  return history.events.map((event) => ({ id: event.id, ...JSON.parse(event.json) }));
}

describe('server.channel(def, key).publish', () => {
  it('stores a validated event as the server (no sender) under the channel name', async () => {
    const { server } = track(await startTestServer(), (fixture) => fixture.close());
    const room = server.channel(chat, 'room-1');

    const { id } = await room.publish('message', { text: 'hello' });

    expect(room.name).toBe('chat:room-1');
    const [event] = await storedEvents(server, 'chat:room-1');
    expect(event).toMatchObject({ id, type: 'message', channel: 'chat:room-1', payload: { text: 'hello' } });
    expect(event.sender).toBeUndefined();
  });

  it('stores a retried keyed publish once, with the first id, on every server-side entry point', async () => {
    const { server } = track(await startTestServer(), (fixture) => fixture.close());
    const room = server.channel(chat, 'room-2');
    const first = await room.publish('message', { text: 'once' }, { idempotencyKey: 'k1' });
    const retried = await server.publish(
      'chat:room-2',
      'message',
      { text: 'once' },
      { idempotencyKey: 'k1' },
    );
    const notice = await server.sendToUser('bob', 'notice', { text: 'n' }, { idempotencyKey: 'k1' });
    const noticeAgain = await server.sendToUser('bob', 'notice', { text: 'n' }, { idempotencyKey: 'k1' });

    expect(retried.id).toBe(first.id);
    expect(noticeAgain.id).toBe(notice.id);
    expect(await storedEvents(server, 'chat:room-2')).toHaveLength(1);
    expect(await storedEvents(server, 'user:bob')).toHaveLength(1);
  });

  it("rejects a payload the event's schema refuses, and stores nothing", async () => {
    const { server } = track(await startTestServer(), (fixture) => fixture.close());

    await expect(server.channel(chat, 'room-1').publish('message', { text: '' })).rejects.toMatchObject({
      code: ErrorCode.INVALID_PAYLOAD,
    });
    expect(await storedEvents(server, 'chat:room-1')).toEqual([]);
  });

  it("publishes server-only events on a user's private channel, the channel sendToUser uses", async () => {
    const { server } = track(await startTestServer(), (fixture) => fixture.close());

    await server.channel(inbox, 'alice').publish('notice', { text: 'typed' });
    await server.sendToUser('alice', 'notice', { text: 'untyped' });

    const events = await storedEvents(server, 'user:alice');
    expect(events.map((event) => event.payload.text)).toEqual(['typed', 'untyped']);
  });

  it('throws on a key that makes no valid channel name', async () => {
    const { server } = track(await startTestServer(), (fixture) => fixture.close());
    expect(() => server.channel(chat, 'room 1')).toThrow();
  });
});
