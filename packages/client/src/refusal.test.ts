import { CloseCode } from '@switchboard/protocol';
import { chatChannel } from '@switchboard/protocol/demo';
import { useCleanup } from '@switchboard/server/testing';
import { describe, expect, it } from 'vitest';
import { countingGetToken, testClient } from './__tests__/testClient.ts';
import { signToken, startTestServer } from './__tests__/testServer.ts';
import { startClosingServer, startRefusingServer } from './__tests__/tinyServers.ts';
import { stateMatching } from './__tests__/waitFor.ts';
import type { ChannelStatus } from './channelSession.ts';
import type { ClientOptions } from './options.ts';

const track = useCleanup();

function connect(options: Partial<ClientOptions> & Pick<ClientOptions, 'url'>) {
  return track(testClient(options), (client) => client.close());
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('refused upgrades', () => {
  it('stops on HTTP 404 (wrong path) with NOT_FOUND and the reason, after one attempt', async () => {
    const fixture = track(await startTestServer(), (f) => f.close());
    const tokens = countingGetToken(() => signToken('alice'));
    const client = connect({ url: fixture.wsUrl.replace('/ws', '/not-ws'), getToken: tokens.getToken });
    const pending = client.trpc.whoami.query();
    const closed = await stateMatching(client, (s) => s.status === 'closed', 'closed');
    const reason = 'upgrade refused with HTTP 404: no WebSocket endpoint here';
    expect(closed).toEqual({
      status: 'closed',
      transport: 'websocket',
      attempt: 0,
      error: { code: 'NOT_FOUND', message: reason },
      lastClose: { code: 1006, reason },
    });
    // The call made before the refusal settles with it, not with "Closed before connection was established".
    await expect(pending).rejects.toMatchObject({ data: { code: 'NOT_FOUND' }, message: reason });
    // With 20 ms backoff, 500 ms would allow many more attempts if the client kept retrying.
    await sleep(500);
    expect(tokens.calls).toBe(1);
  });

  it('answers calls waiting for the connection with UNAUTHORIZED and the server reason on HTTP 401', async () => {
    const fixture = track(await startTestServer(), (f) => f.close());
    const client = connect({
      url: fixture.wsUrl,
      getToken: () => signToken('mallory', { secret: 'not-the-server-secret' }),
    });
    const room = client.channel(chatChannel, 'room');
    const statuses: ChannelStatus[] = [];
    room.subscribe({ onStatus: (status) => statuses.push(status) });
    const publish = room.publish('message', { text: 'hi' });
    const query = client.trpc.whoami.query();
    const reason = 'upgrade refused with HTTP 401: missing or invalid credentials';
    await expect(publish).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: reason });
    await expect(query).rejects.toMatchObject({
      message: reason,
      data: { code: 'UNAUTHORIZED', switchboardCode: 'UNAUTHORIZED' },
    });
    await stateMatching(client, (s) => s.status === 'closed', 'closed');
    expect(statuses).toEqual(['subscribing', 'closed']);
  });

  it.each([
    [429, 'too many connections for this user'],
    [503, 'server at capacity'],
  ])('retries HTTP %i with backoff, reporting the reason in lastClose', async (status, reason) => {
    const refusing = track(await startRefusingServer(status, reason), (s) => s.close());
    const client = connect({ url: refusing.wsUrl, getToken: () => signToken('alice') });
    const state = await stateMatching(client, (s) => s.attempt >= 3, 'three failed attempts');
    expect(state).toMatchObject({
      status: 'connecting',
      transport: 'websocket',
      lastClose: { code: 1006, reason: `upgrade refused with HTTP ${status}: ${reason}` },
    });
    expect(refusing.attempts).toBeGreaterThanOrEqual(3);
  });
});

describe('too many connections of one user (real server, HTTP 429)', () => {
  it('keeps retrying with backoff, then connects once a slot is free', async () => {
    const fixture = track(await startTestServer({ overrides: { maxConnectionsPerUser: 1 } }), (f) =>
      f.close(),
    );
    const first = connect({ url: fixture.wsUrl, getToken: () => signToken('alice') });
    await stateMatching(first, (s) => s.status === 'open', 'the first connection open');
    const second = connect({ url: fixture.wsUrl, getToken: () => signToken('alice') });
    const refused = await stateMatching(second, (s) => s.attempt >= 2, 'two refused attempts');
    expect(refused).toMatchObject({
      status: 'connecting',
      transport: 'websocket',
      lastClose: { code: 1006, reason: expect.stringMatching(/^upgrade refused with HTTP 429: \S/) },
    });
    await first.close();
    await stateMatching(second, (s) => s.status === 'open', 'open once the slot is free');
  });
});

describe('repeated refusal closes', () => {
  it('stops after the same policy close twice in a row with nothing accepted in between', async () => {
    const reason = 'too many requests in one frame';
    const closing = track(await startClosingServer(CloseCode.POLICY_VIOLATION, reason), (s) => s.close());
    const client = connect({ url: closing.wsUrl, getToken: () => signToken('alice') });
    // tRPC's client re-sends this subscription on every connection: each one is refused the same way.
    const statuses: ChannelStatus[] = [];
    client.channel(chatChannel, 'room').subscribe({ onStatus: (status) => statuses.push(status) });
    const closed = await stateMatching(client, (s) => s.status === 'closed', 'closed');
    expect(closed).toMatchObject({
      status: 'closed',
      transport: 'websocket',
      error: {
        code: 'BAD_REQUEST',
        message: `stopped reconnecting: the server refused what this client sends 2 times in a row (close 1008 "${reason}")`,
      },
      lastClose: { code: CloseCode.POLICY_VIOLATION, reason },
    });
    expect(closed.authError).toBeUndefined();
    expect(statuses.at(-1)).toBe('closed');
    // Bounded: with 20 ms backoff, 1 s would allow dozens of attempts if the client kept looping.
    await sleep(1_000);
    expect(closing.attempts).toBe(2);
    await expect(client.channel(chatChannel, 'room').publish('message', { text: 'x' })).rejects.toMatchObject(
      {
        code: 'BAD_REQUEST',
        message: closed.error?.message,
      },
    );

    // `reconnect()` tries again (the app decides that the cause may be gone).
    client.reconnect();
    await stateMatching(client, (s) => s.status === 'closed' && closing.attempts === 4, 'closed again');
  });

  it('stops when every connection resends more subscriptions than the server allows (real server; found by a breaker)', async () => {
    const fixture = track(await startTestServer({ overrides: { maxSubscriptionsPerConnection: 3 } }), (f) =>
      f.close(),
    );
    const client = connect({ url: fixture.wsUrl, getToken: () => signToken('alice') });
    // Four subscriptions resent in one frame on every connection: the fourth is one too many, every time.
    for (const room of ['a', 'b', 'c', 'd']) client.channel(chatChannel, room).subscribe({});
    const closed = await stateMatching(client, (s) => s.status === 'closed', 'closed');
    expect(closed).toMatchObject({
      error: { code: 'BAD_REQUEST' },
      lastClose: { code: CloseCode.POLICY_VIOLATION, reason: 'too many subscriptions on one connection' },
    });
    // The three the server could have started were not: nothing was accepted, so this is a repeat.
    await sleep(500);
    expect(fixture.server.metrics.stats.subscriptions).toBe(0);
  });

  it('keeps reconnecting when the server accepted something between two such closes', async () => {
    const closing = track(
      await startClosingServer(CloseCode.POLICY_VIOLATION, 'rate limit exceeded', { answerFirst: true }),
      (s) => s.close(),
    );
    const client = connect({ url: closing.wsUrl, getToken: () => signToken('alice') });
    client.channel(chatChannel, 'room').subscribe({});
    await stateMatching(client, () => closing.attempts >= 5, 'five connections');
    expect(client.connection.getSnapshot().status).not.toBe('closed');
  });
});
