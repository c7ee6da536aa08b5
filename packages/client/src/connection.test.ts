import { CloseCode, type Envelope } from '@switchboard/protocol';
import { chatChannel } from '@switchboard/protocol/demo';
import { useCleanup } from '@switchboard/server/testing';
import { describe, expect, it } from 'vitest';
import { BrowserLikeWebSocket } from './__tests__/browserLikeWebSocket.ts';
import { devLogin, startDemoInProcess } from './__tests__/demoServer.ts';
import { countingGetToken, testClient } from './__tests__/testClient.ts';
import { signToken, startTestServer, type TestRouter, until } from './__tests__/testServer.ts';
import { startHangingServer } from './__tests__/tinyServers.ts';
import { collector, recordStates, stateMatching } from './__tests__/waitFor.ts';
import type { ConnectionState } from './connectionState.ts';
import type { SwitchboardClient } from './createSwitchboardClient.ts';
import type { ClientOptions } from './options.ts';

const track = useCleanup();

function connect(
  options: Partial<ClientOptions> & Pick<ClientOptions, 'url'>,
): SwitchboardClient<TestRouter> {
  return track(testClient(options), (client) => client.close());
}

const statuses = (states: ConnectionState[]) => states.map((state) => state.status);
const isOpen = (state: ConnectionState) => state.status === 'open';

describe('connection state', () => {
  it('starts connecting at once, goes open, then closed on close(), which is idempotent', async () => {
    const fixture = track(await startTestServer(), (f) => f.close());
    const client = connect({ url: fixture.wsUrl, getToken: () => signToken('alice') });
    const states = recordStates(client);
    await stateMatching(client, isOpen, 'open');
    expect(await client.trpc.whoami.query()).toEqual({ userId: 'alice', name: 'alice' });
    await client.close();
    await client.close();
    expect(states).toEqual([
      { status: 'connecting', transport: 'websocket', attempt: 0 },
      { status: 'open', transport: 'websocket', attempt: 0 },
      { status: 'closed', transport: 'websocket', attempt: 0 },
    ]);
    expect(client.connection.getSnapshot()).toEqual({ status: 'closed', transport: 'websocket', attempt: 0 });
  });

  it('reports reconnecting with the close, the retry number and the next retry time, then open again', async () => {
    const fixture = track(await startTestServer(), (f) => f.close());
    const client = connect({ url: fixture.wsUrl, getToken: () => signToken('alice') });
    await stateMatching(client, isOpen, 'open');
    const states = recordStates(client);
    for (const connection of fixture.server.registry.all())
      connection.socket.close(CloseCode.TRY_AGAIN_LATER, 'slow consumer');
    await stateMatching(client, (s) => s.status === 'open' && states.length > 1, 'open again');
    const lastClose = { code: CloseCode.TRY_AGAIN_LATER, reason: 'slow consumer' };
    expect(statuses(states)).toEqual(['open', 'reconnecting', 'reconnecting', 'reconnecting', 'open']);
    expect(states[1]).toEqual({ status: 'reconnecting', transport: 'websocket', attempt: 1, lastClose });
    expect(states[2]).toMatchObject({
      status: 'reconnecting',
      transport: 'websocket',
      attempt: 1,
      lastClose,
    });
    expect(states[2]!.nextRetryAt).toBeGreaterThan(Date.now() - 1000);
    expect(states[3]).toEqual({ status: 'reconnecting', transport: 'websocket', attempt: 1, lastClose });
    expect(states[4]).toEqual({ status: 'open', transport: 'websocket', attempt: 0, lastClose });
  });
});

describe('credentials', () => {
  it('calls getToken before every attempt, so a token that expired while disconnected is replaced', async () => {
    const fixture = track(await startTestServer(), (f) => f.close());
    const port = fixture.port;
    // A realistic token cache: reuse the token until it expires, then sign in again.
    let cached = {
      token: signToken('alice', { name: 'first', expiresInSec: 1 }),
      expiresAt: Date.now() + 1000,
    };
    const issued: string[] = [];
    const getToken = () => {
      if (Date.now() >= cached.expiresAt) {
        cached = { token: signToken('alice', { name: 'second' }), expiresAt: Date.now() + 3_600_000 };
      }
      issued.push(cached.token);
      return cached.token;
    };
    const client = connect({ url: fixture.wsUrl, getToken });
    await stateMatching(client, isOpen, 'open');
    expect(await client.trpc.whoami.query()).toEqual({ userId: 'alice', name: 'first' });

    await fixture.close();
    await stateMatching(client, (s) => s.status === 'reconnecting', 'reconnecting');
    // The JWT `exp` has one-second resolution: wait until the first token is certainly expired.
    const firstToken = issued[0]!;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, cached.expiresAt + 1000 - Date.now())));
    const restarted = track(await startTestServer({ port }), (f) => f.close());
    await stateMatching(client, isOpen, 'open after the restart');

    expect(await client.trpc.whoami.query()).toEqual({ userId: 'alice', name: 'second' });
    expect(new Set(issued).size).toBe(2);
    expect(issued.length).toBeGreaterThan(2);
    // The first token really is refused now: reusing it would have ended in `unauthorized`.
    const stale = connect({ url: restarted.wsUrl, getToken: () => firstToken });
    expect(await stateMatching(stale, (s) => s.status === 'closed', 'closed')).toMatchObject({
      authError: 'unauthorized',
    });
  });

  it('stops with `unauthorized` when the upgrade is refused with HTTP 401 (read directly in Node)', async () => {
    const fixture = track(await startTestServer(), (f) => f.close());
    const tokens = countingGetToken(() => signToken('mallory', { secret: 'not-the-server-secret' }));
    const client = connect({ url: fixture.wsUrl, getToken: tokens.getToken });
    const states = recordStates(client);
    const closed = await stateMatching(client, (s) => s.status === 'closed', 'closed');
    const reason = 'upgrade refused with HTTP 401: missing or invalid credentials';
    expect(closed).toEqual({
      status: 'closed',
      transport: 'websocket',
      attempt: 0,
      authError: 'unauthorized',
      error: { code: 'UNAUTHORIZED', message: reason },
      lastClose: { code: 1006, reason },
    });
    expect(statuses(states)).toEqual(['connecting', 'closed']);
    // No retries: with 20 ms backoff, 300 ms would have allowed several.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(tokens.calls).toBe(1);
    expect(client.connection.getSnapshot()).toBe(closed);
    await expect(
      client.channel(chatChannel, 'lobby').publish('message', { text: 'hi' }),
    ).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: reason });
  });

  it.each([
    [CloseCode.UNAUTHORIZED, 'unauthorized', 'unauthorized', 'UNAUTHORIZED'],
    [CloseCode.TOKEN_EXPIRED, 'token expired', 'unauthorized', 'UNAUTHORIZED'],
    [CloseCode.FORBIDDEN, 'forbidden', 'forbidden', 'FORBIDDEN'],
  ] as const)(
    'stops on terminal close code %i with authError %s',
    async (code, reason, authError, errorCode) => {
      const fixture = track(await startTestServer(), (f) => f.close());
      const tokens = countingGetToken(() => signToken('alice'));
      const client = connect({ url: fixture.wsUrl, getToken: tokens.getToken });
      await stateMatching(client, isOpen, 'open');
      for (const connection of fixture.server.registry.all()) connection.socket.close(code, reason);
      const closed = await stateMatching(client, (s) => s.status === 'closed', 'closed');
      expect(closed).toEqual({
        status: 'closed',
        transport: 'websocket',
        attempt: 0,
        authError,
        error: { code: errorCode, message: `the server ended the connection: ${reason} (${code})` },
        lastClose: { code, reason },
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(tokens.calls).toBe(1);
      expect(fixture.server.registry.size).toBe(0);
    },
  );

  it('reconnect() after `unauthorized` connects with a fresh token and resumes its channels', async () => {
    const fixture = track(await startTestServer(), (f) => f.close());
    let valid = false;
    const client = connect({
      url: fixture.wsUrl,
      getToken: () => (valid ? signToken('alice') : signToken('alice', { expiresInSec: -10 })),
    });
    const events = collector<Envelope>();
    const statuses = collector<string>();
    client.channel(chatChannel, 'lobby').subscribe({
      onEvent: (event) => events.push(event),
      onStatus: (status) => statuses.push(status),
    });
    await stateMatching(client, (s) => s.authError === 'unauthorized', 'unauthorized');
    await statuses.waitFor(2);
    expect(statuses.items).toEqual(['subscribing', 'closed']);

    valid = true;
    client.reconnect();
    await statuses.waitFor(4, 'live again');
    expect(statuses.items).toEqual(['subscribing', 'closed', 'subscribing', 'live']);
    expect(fixture.subscriptions()).toBe(1);
    const { id } = await client.channel(chatChannel, 'lobby').publish('message', { text: 'back' });
    expect((await events.waitFor(1))[0]).toMatchObject({ id, payload: { text: 'back' } });
  });
});

describe('auth check (browsers cannot read the HTTP status of a refused upgrade)', () => {
  it('after 3 failures before open, asks /auth/check and stops with `unauthorized` on 401', async () => {
    const demo = track(await startDemoInProcess(), (d) => d.close());
    const tokens = countingGetToken(() => 'not-a-valid-token');
    const client = connect({ url: demo.wsUrl, WebSocket: BrowserLikeWebSocket, getToken: tokens.getToken });
    const closed = await stateMatching(client, (s) => s.status === 'closed', 'closed');
    expect(closed).toMatchObject({
      status: 'closed',
      transport: 'websocket',
      authError: 'unauthorized',
      attempt: 3,
    });
    // Three refused attempts, then the token for the fourth was checked instead of used.
    expect(tokens.calls).toBe(4);
  });

  it('keeps retrying when /auth/check accepts the credentials', async () => {
    const demo = track(await startDemoInProcess(), (d) => d.close());
    const token = await devLogin(demo.httpUrl, 'alice');
    const checks: string[] = [];
    const client = connect({
      // A path the server does not serve: upgrades fail for a reason that is not the credentials.
      url: `${demo.wsUrl.replace('/ws', '/not-ws')}`,
      authCheckUrl: `${demo.httpUrl}/auth/check`,
      WebSocket: BrowserLikeWebSocket,
      getToken: () => token,
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        // Only the auth check's answers: the same fetch also exchanges the token for connection tickets.
        if (String(input).includes('/auth/check')) checks.push(`${response.status}`);
        return response;
      },
    });
    await stateMatching(client, (s) => s.attempt >= 4, 'a fourth failure');
    expect(checks).toEqual(['200']);
    expect(client.connection.getSnapshot().status).toBe('connecting');
  });
});

describe('online event', () => {
  it('retries at once when the network comes back, without waiting out the backoff', async () => {
    const fixture = track(await startTestServer(), (f) => f.close());
    const port = fixture.port;
    const network = new EventTarget();
    const client = connect({
      url: fixture.wsUrl,
      getToken: () => signToken('alice'),
      backoff: { initialDelayMs: 60_000, maxDelayMs: 60_000 },
      onlineEvents: network,
    });
    await stateMatching(client, isOpen, 'open');
    await fixture.close();
    // Wait for a retry scheduled far away (the delay is random: an early one just fails against the closed port).
    const waiting = await stateMatching(
      client,
      (s) => s.status === 'reconnecting' && (s.nextRetryAt ?? 0) - Date.now() > 2_000,
      'a distant retry',
      15_000,
    );
    track(await startTestServer({ port }), (f) => f.close());
    network.dispatchEvent(new Event('online'));
    await stateMatching(client, isOpen, 'open right after `online`', 1_500);
    expect(Date.now()).toBeLessThan(waiting.nextRetryAt!);
  });
});

describe('connect timeout', () => {
  // The attack (repro_hung_upgrade_forever): an upgrade accepted and never answered left the client
  // `connecting` forever (attempt 0), and `close()` never resolved.
  it('abandons an upgrade that is never answered after connectTimeoutMs, and keeps retrying with the reason', async () => {
    const hanging = track(await startHangingServer(), (s) => s.close());
    const client = connect({ url: hanging.wsUrl, ticketUrl: false, connectTimeoutMs: 150 });
    const failed = await stateMatching(client, (s) => s.attempt >= 2, 'two timed-out attempts', 3_000);
    expect(failed).toMatchObject({ status: 'connecting', attemptError: 'connect timed out after 150 ms' });
    expect(hanging.attempts).toBeGreaterThanOrEqual(2);
    const failure = await client.trpc.whoami.query(undefined, { context: { timeoutMs: 50 } }).catch((e) => e);
    expect(String(failure.message)).toContain('connect timed out after 150 ms');
    hanging.hang = false;
    await stateMatching(client, (s) => s.status === 'open', 'open once upgrades are answered', 3_000);
  });

  it('close() settles during a connect that hangs, long before the connect timeout', async () => {
    const hanging = track(await startHangingServer(), (s) => s.close());
    const client = connect({ url: hanging.wsUrl, ticketUrl: false });
    await until(() => hanging.attempts === 1, 'the upgrade request');
    const started = Date.now();
    await client.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(client.connection.getSnapshot().status).toBe('closed');
  });
});

describe('attempt errors', () => {
  it('puts why an attempt failed without a socket in the state and in call timeouts (getToken threw)', async () => {
    const fixture = track(await startTestServer(), (f) => f.close());
    const client = connect({
      url: fixture.wsUrl,
      getToken: () => {
        throw new Error('token store unreachable');
      },
    });
    const failed = await stateMatching(client, (s) => s.attempt >= 1, 'a failed attempt');
    expect(failed.attemptError).toBe('getToken() failed: token store unreachable');
    const failure = await client.trpc.whoami.query(undefined, { context: { timeoutMs: 50 } }).catch((e) => e);
    expect(String(failure.message)).toContain('getToken() failed: token store unreachable');
  });
});
