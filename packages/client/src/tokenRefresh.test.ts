import { CloseCode } from '@switchboard/protocol';
import { useCleanup } from '@switchboard/server/testing';
import { describe, expect, it } from 'vitest';
import { countingGetToken, testClient } from './__tests__/testClient.ts';
import { routerWithoutAuth, signToken, startTestServer, until } from './__tests__/testServer.ts';
import { recordStates, stateMatching } from './__tests__/waitFor.ts';
import type { ConnectionState } from './connectionState.ts';
import { clientDefaults } from './options.ts';
import { tokenExpiresAtMs } from './tokenExpiry.ts';
import { refreshDelayMs } from './tokenRefresh.ts';

const track = useCleanup();

const isOpen = (state: ConnectionState) => state.status === 'open';

/** Waits until `atMs` (Date.now() time): what is checked here is that nothing happens meanwhile. */
const waitUntil = (atMs: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, atMs - Date.now())));

/** When a client that opened now with `token` would refresh it (default margin), plus some slack. */
const refreshDueAt = (token: string) =>
  Date.now() +
  refreshDelayMs(tokenExpiresAtMs(token)!, Date.now(), clientDefaults.refreshBeforeExpiryMs) +
  200;

describe('tokenExpiresAtMs', () => {
  it("reads a JWT's exp claim in ms, without verifying it", () => {
    const token = signToken('alice', { expiresInSec: 120, secret: 'not-the-server-secret' });
    const exp = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).exp as number;
    expect(tokenExpiresAtMs(token)).toBe(exp * 1000);
  });

  it.each(['opaque-session-token', 'a.b.c', 'a.e30.c', ''])('returns undefined for %j', (token) => {
    expect(tokenExpiresAtMs(token)).toBeUndefined();
  });
});

describe('refreshDelayMs', () => {
  it('refreshes refreshBeforeExpiryMs before expiry, or halfway through a short lifetime', () => {
    expect(refreshDelayMs(3_600_000, 0, 60_000)).toBe(3_540_000);
    expect(refreshDelayMs(120_000, 0, 60_000)).toBe(60_000);
    expect(refreshDelayMs(2_000, 0, 60_000)).toBe(1_000);
    expect(refreshDelayMs(2_000, 0, 0)).toBe(2_000);
    expect(refreshDelayMs(1_000, 1_000, 60_000)).toBe(0);
    expect(refreshDelayMs(1_000, 5_000, 60_000)).toBe(0);
  });
});

describe('in-band token refresh', () => {
  it("keeps a connection open past its first token's expiry (no 4501), with tokens from getToken", async () => {
    const fixture = track(await startTestServer(), (f) => f.close());
    const tokens = countingGetToken(() => signToken('alice', { expiresInSec: 2 }));
    // The default refreshBeforeExpiryMs (60 s) is longer than the lifetime: refreshed halfway.
    const client = track(testClient({ url: fixture.wsUrl, getToken: tokens.getToken }), (c) => c.close());
    await stateMatching(client, isOpen, 'open');
    const states = recordStates(client);
    const [connection] = fixture.server.registry.all();
    const firstExpiresAt = connection!.user.expiresAt!;

    await waitUntil(firstExpiresAt + 1_000);
    expect(states).toEqual([{ status: 'open', transport: 'websocket', attempt: 0 }]);
    expect([...fixture.server.registry.all()]).toEqual([connection]);
    expect(connection!.user.expiresAt).toBeGreaterThan(firstExpiresAt);
    expect(tokens.calls).toBeGreaterThanOrEqual(2);
    expect(await client.trpc.whoami.query()).toEqual({ userId: 'alice', name: 'alice' });
  });

  it('falls back to closing at expiry (4501) when the app has no auth.refresh procedure', async () => {
    const fixture = track(await startTestServer({ router: routerWithoutAuth }), (f) => f.close());
    const tokens = countingGetToken(() => signToken('alice', { expiresInSec: 2 }));
    const client = track(testClient({ url: fixture.wsUrl, getToken: tokens.getToken }), (c) => c.close());
    await stateMatching(client, isOpen, 'open');
    const closed = await stateMatching(client, (s) => s.status === 'closed', 'closed at expiry', 4_000);
    expect(closed).toEqual({
      status: 'closed',
      transport: 'websocket',
      attempt: 0,
      authError: 'unauthorized',
      error: { code: 'UNAUTHORIZED', message: 'the server ended the connection: token expired (4501)' },
      lastClose: { code: CloseCode.TOKEN_EXPIRED, reason: 'token expired' },
    });
    // One token to connect, one for the refresh the server did not know.
    expect(tokens.calls).toBe(2);

    // The client remembers: its next connection does not ask for a refresh.
    client.reconnect();
    await stateMatching(client, isOpen, 'open again');
    await waitUntil(refreshDueAt(signToken('alice', { expiresInSec: 2 })));
    expect(tokens.calls).toBe(3);
  });

  it('falls back to closing at expiry (4501) when the server refuses the new token', async () => {
    const fixture = track(await startTestServer(), (f) => f.close());
    let user = 'alice';
    const tokens = countingGetToken(() => signToken(user, { expiresInSec: 2 }));
    const client = track(testClient({ url: fixture.wsUrl, getToken: tokens.getToken }), (c) => c.close());
    await stateMatching(client, isOpen, 'open');
    // A token for someone else: the server answers FORBIDDEN and keeps the old expiry.
    user = 'mallory';
    const closed = await stateMatching(client, (s) => s.status === 'closed', 'closed at expiry', 4_000);
    expect(closed.lastClose).toEqual({ code: CloseCode.TOKEN_EXPIRED, reason: 'token expired' });
    expect(tokens.calls).toBe(2);
  });

  it('does not refresh when refreshBeforeExpiryMs is false', async () => {
    const fixture = track(await startTestServer(), (f) => f.close());
    const tokens = countingGetToken(() => signToken('alice', { expiresInSec: 2 }));
    const client = track(
      testClient({ url: fixture.wsUrl, getToken: tokens.getToken, refreshBeforeExpiryMs: false }),
      (c) => c.close(),
    );
    await stateMatching(client, isOpen, 'open');
    await waitUntil(refreshDueAt(signToken('alice', { expiresInSec: 2 })));
    expect(tokens.calls).toBe(1);
  });

  it('plans nothing more once the client is closed', async () => {
    const fixture = track(await startTestServer(), (f) => f.close());
    const tokens = countingGetToken(() => signToken('alice', { expiresInSec: 2 }));
    const client = testClient({ url: fixture.wsUrl, getToken: tokens.getToken });
    await stateMatching(client, isOpen, 'open');
    await client.close();
    await waitUntil(refreshDueAt(signToken('alice', { expiresInSec: 2 })));
    expect(tokens.calls).toBe(1);
    await until(() => fixture.server.registry.size === 0, 'the server to see the close');
  });
});
