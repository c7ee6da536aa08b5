import type { Envelope } from '@switchboard/protocol';
import { chatChannel } from '@switchboard/protocol/demo';
import { useCleanup } from '@switchboard/server/testing';
import { TRPCClientError } from '@trpc/client';
import { describe, expect, it } from 'vitest';
import { testClient } from './__tests__/testClient.ts';
import { signToken, startTestServer } from './__tests__/testServer.ts';
import { unusedPort } from './__tests__/tinyServers.ts';
import { collector, stateMatching } from './__tests__/waitFor.ts';
import type { ChannelStatus } from './channelSession.ts';
import type { ClientOptions } from './options.ts';

const track = useCleanup();

function connect(options: Partial<ClientOptions> & Pick<ClientOptions, 'url'>) {
  return track(testClient({ getToken: () => signToken('alice'), ...options }), (client) => client.close());
}

/** Resolves with how long `promise` took to reject, in ms, and what it rejected with. */
async function rejection(promise: Promise<unknown>): Promise<{ elapsedMs: number; error: unknown }> {
  const start = Date.now();
  try {
    await promise;
  } catch (error) {
    return { elapsedMs: Date.now() - start, error };
  }
  throw new Error('expected a rejection');
}

describe('call timeouts when no connection can be made', () => {
  it('rejects publish, presence and setPresence with TIMEOUT and the connection state after callTimeoutMs', async () => {
    const port = await unusedPort();
    const client = connect({ url: `ws://127.0.0.1:${port}/ws`, callTimeoutMs: 300 });
    const room = client.channel(chatChannel, 'room');
    // Subscribed: setPresence waits for the subscription to be live.
    room.subscribe({});
    const [publish, presence, setPresence] = await Promise.all([
      rejection(room.publish('message', { text: 'hello' })),
      rejection(room.presence()),
      rejection(room.setPresence({ status: 'away' })),
    ]);
    for (const { elapsedMs, error } of [publish, presence, setPresence]) {
      expect(error).toMatchObject({ name: 'SwitchboardError', code: 'TIMEOUT' });
      expect(elapsedMs).toBeGreaterThanOrEqual(290);
      expect(elapsedMs).toBeLessThan(2_000);
    }
    expect((publish.error as Error).message).toMatch(
      // How far the attempts got in 300 ms depends on the machine's load. Nothing listens: the ticket
      // exchange fails before any socket, and the state says so.
      /^channel\.publish did not settle within 300 ms \(connecting(, \d+ failed attempts?(, the ticket exchange failed: fetch failed)?(, last close 1006)?)?\)$/,
    );
    expect((setPresence.error as Error).message).toBe(
      'chat:room: not live within 300 ms (status subscribing); the presence is set once it is',
    );
  });

  it('rejects a query of the app with a TRPCClientError whose data.code is TIMEOUT; per call too', async () => {
    const port = await unusedPort();
    const client = connect({ url: `ws://127.0.0.1:${port}/ws`, callTimeoutMs: 5_000 });
    const { elapsedMs, error } = await rejection(
      client.trpc.whoami.query(undefined, { context: { timeoutMs: 150 } }),
    );
    expect(error).toBeInstanceOf(TRPCClientError);
    expect(error).toMatchObject({ data: { code: 'TIMEOUT', switchboardCode: 'TIMEOUT' } });
    expect(elapsedMs).toBeLessThan(2_000);
    const timedOutPublish = await rejection(
      client.channel(chatChannel, 'room').publish('message', { text: 'x' }, { timeoutMs: 100 }),
    );
    expect(timedOutPublish.error).toMatchObject({ code: 'TIMEOUT' });
    expect(timedOutPublish.elapsedMs).toBeLessThan(2_000);
  });

  it('drops a timed-out call: it is not sent once the server is up, while subscriptions wait and resume', async () => {
    const port = await unusedPort();
    const client = connect({ url: `ws://127.0.0.1:${port}/ws`, callTimeoutMs: 200 });
    const room = client.channel(chatChannel, 'room');
    const statuses = collector<ChannelStatus>();
    const events = collector<Envelope>();
    room.subscribe({ onStatus: (status) => statuses.push(status), onEvent: (event) => events.push(event) });
    await expect(room.publish('message', { text: 'too late' })).rejects.toMatchObject({ code: 'TIMEOUT' });

    track(await startTestServer({ port }), (f) => f.close());
    await statuses.waitFor(2, 'live once the server is up', 10_000);
    expect(statuses.items).toEqual(['subscribing', 'live']);
    await room.publish('message', { text: 'on time' });
    await events.waitFor(1);
    // Stored events of the channel, read by another client: only the publish that was acknowledged.
    const other = connect({ url: `ws://127.0.0.1:${port}/ws` });
    const history = collector<Envelope>();
    other.channel(chatChannel, 'room').subscribe({ replay: 10, onEvent: (event) => history.push(event) });
    await stateMatching(other, (s) => s.status === 'open', 'the second client open');
    await history.waitFor(1);
    await other.channel(chatChannel, 'room').publish('message', { text: 'end' });
    await history.waitFor(2);
    expect(history.items.map((event) => (event.payload as { text: string }).text)).toEqual([
      'on time',
      'end',
    ]);
  });

  it('refuses a timeout that is not a positive number, naming the option', () => {
    expect(() => testClient({ url: 'ws://127.0.0.1:1/ws', callTimeoutMs: 0 })).toThrow(
      'createSwitchboardClient: callTimeoutMs must be a positive number of ms (or Infinity), got 0',
    );
  });
});
