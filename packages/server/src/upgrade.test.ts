import type { IncomingMessage } from 'node:http';
import { UpgradeStatus } from '@switchboard/protocol';
import { base64url, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { useCleanup } from './__tests__/lifecycle.ts';
import {
  closeOf,
  connectRaw,
  startTestServer,
  TEST_SECRET,
  until,
  upgradeStatusOf,
} from './__tests__/testServer.ts';

const track = useCleanup();
const server = (overrides = {}) => startTestServer(overrides).then((s) => track(s, (f) => f.close()));

function unsignedToken(claims: object): string {
  const encode = (value: object) => base64url.encode(JSON.stringify(value));
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode(claims)}.`;
}

describe('upgrade', () => {
  it('accepts a valid token from the query, the Authorization header or the cookie', async () => {
    const fixture = await server();
    const token = await fixture.sign('alice');
    const viaQuery = await connectRaw(fixture.wsUrl, token);
    viaQuery.close();
    for (const headers of [{ authorization: `Bearer ${token}` }, { cookie: `other=1; sb_token=${token}` }]) {
      const { default: WebSocket } = await import('ws');
      const socket = new WebSocket(fixture.wsUrl, { headers });
      await new Promise((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('error', reject);
      });
      socket.close();
    }
  });

  it.each([
    ['missing', async () => ''],
    [
      'expired',
      async (sign: (id: string, o?: object) => Promise<string>) => sign('alice', { expiresInSec: -60 }),
    ],
    [
      'badly signed',
      async (sign: (id: string, o?: object) => Promise<string>) =>
        sign('alice', { secret: 'another-secret-xxxxxxxxxxxxxxxx' }),
    ],
    ['alg:none', async () => unsignedToken({ sub: 'alice', exp: Math.floor(Date.now() / 1000) + 60 })],
    ['garbage', async () => 'not.a.jwt'],
  ])('answers HTTP 401 without upgrading for a %s token', async (_, makeToken) => {
    const fixture = await server();
    const token = await makeToken(fixture.sign);
    expect(await upgradeStatusOf(`${fixture.wsUrl}?token=${token}`)).toBe(UpgradeStatus.UNAUTHORIZED);
    expect(fixture.server.registry.size).toBe(0);
  });

  it('refuses an HS256 token signed with the RSA public key when a public key is configured (no HS/RS confusion)', async () => {
    const { generateKeyPair, exportSPKI } = await import('jose');
    const { publicKey } = await generateKeyPair('RS256', { extractable: true });
    const pem = await exportSPKI(publicKey);
    const fixture = await server({ jwt: { publicKey: pem } });
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('mallory')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(pem));
    expect(await upgradeStatusOf(`${fixture.wsUrl}?token=${forged}`)).toBe(UpgradeStatus.UNAUTHORIZED);
  });

  it('refuses a foreign Origin with 403 and allows configured and same origins', async () => {
    const fixture = await server({ allowedOrigins: ['https://app.example.com'] });
    const token = await fixture.sign('alice');
    const url = `${fixture.wsUrl}?token=${token}`;
    expect(await upgradeStatusOf(url, { origin: 'https://evil.example.com' })).toBe(UpgradeStatus.FORBIDDEN);
    const { default: WebSocket } = await import('ws');
    const allowed = new WebSocket(url, { origin: 'https://app.example.com' });
    await new Promise((resolve, reject) => {
      allowed.once('open', resolve);
      allowed.once('error', reject);
    });
    allowed.close();
  });

  it('refuses a cross-site Origin by default, even with a valid cookie (CSWSH)', async () => {
    const fixture = await server();
    const token = await fixture.sign('alice');
    expect(
      await upgradeStatusOf(fixture.wsUrl, {
        origin: 'https://evil.example.com',
        cookie: `sb_token=${token}`,
      }),
    ).toBe(UpgradeStatus.FORBIDDEN);
    const { default: WebSocket } = await import('ws');
    const sameOrigin = new WebSocket(fixture.wsUrl, {
      origin: `http://127.0.0.1:${fixture.port}`,
      headers: { cookie: `sb_token=${token}` },
    });
    await new Promise((resolve, reject) => {
      sameOrigin.once('open', resolve);
      sameOrigin.once('error', reject);
    });
    sameOrigin.close();
  });

  it('answers 503 past maxConnections and keeps serving the open ones', async () => {
    const fixture = await server({ maxConnections: 2 });
    const token = await fixture.sign('alice');
    const open = [await connectRaw(fixture.wsUrl, token), await connectRaw(fixture.wsUrl, token)];
    expect(await upgradeStatusOf(`${fixture.wsUrl}?token=${token}`)).toBe(UpgradeStatus.AT_CAPACITY);
    expect(open.every((s) => s.readyState === s.OPEN)).toBe(true);
    const closed = closeOf(open[0]!);
    open[0]!.close();
    await closed;
    for (const socket of open) socket.close();
  });

  it('answers 404 for upgrades outside the WebSocket path', async () => {
    const fixture = await server();
    expect(
      await upgradeStatusOf(`ws://127.0.0.1:${fixture.port}/elsewhere?token=${await fixture.sign('a')}`),
    ).toBe(404);
  });
});

describe('JWT claims', () => {
  it('checks iss and aud when configured, and tolerates small clock skew on exp/nbf', async () => {
    const fixture = await server({
      jwt: { secret: TEST_SECRET, issuer: 'https://id.example.com', audience: 'switchboard' },
    });
    const key = new TextEncoder().encode(TEST_SECRET);
    const token = (claims: { iss?: string; aud?: string; exp?: number; nbf?: number }) => {
      const jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice');
      if (claims.iss) jwt.setIssuer(claims.iss);
      if (claims.aud) jwt.setAudience(claims.aud);
      jwt.setExpirationTime(claims.exp ?? Math.floor(Date.now() / 1000) + 60);
      if (claims.nbf) jwt.setNotBefore(claims.nbf);
      return jwt.sign(key);
    };
    const good = { iss: 'https://id.example.com', aud: 'switchboard' };
    const now = Math.floor(Date.now() / 1000);
    expect(
      await upgradeStatusOf(
        `${fixture.wsUrl}?token=${await token({ ...good, iss: 'https://evil.example.com' })}`,
      ),
    ).toBe(401);
    expect(
      await upgradeStatusOf(`${fixture.wsUrl}?token=${await token({ ...good, aud: 'other-app' })}`),
    ).toBe(401);
    expect(await upgradeStatusOf(`${fixture.wsUrl}?token=${await token({ ...good, nbf: now + 120 })}`)).toBe(
      401,
    );
    // Within the 5 s tolerance: accepted.
    const skewed = await connectRaw(fixture.wsUrl, await token({ ...good, exp: now - 2, nbf: now + 2 }));
    skewed.close();
    const accepted = await connectRaw(fixture.wsUrl, await token(good));
    accepted.close();
  });
});

describe('token sources', () => {
  it('prefers the explicit ?token over the shared cookie, so two tabs stay two users', async () => {
    const fixture = await server();
    const { default: WebSocket } = await import('ws');
    const socket = new WebSocket(`${fixture.wsUrl}?token=${await fixture.sign('tab-user')}`, {
      headers: { cookie: `sb_token=${await fixture.sign('cookie-user')}` },
    });
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    await until(() => fixture.server.registry.size === 1);
    expect(fixture.server.registry.byUser('tab-user')).toHaveLength(1);
    socket.close();
  });
});

/** Status and JSON body of a refused upgrade, as a non-browser client reads them. */
function refusalOf(url: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: { error?: string } }>((resolve, reject) => {
    import('ws').then(({ default: WebSocket }) => {
      const socket = new WebSocket(url, { headers });
      socket.once('unexpected-response', (_req, res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString();
        });
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
          socket.terminate();
        });
      });
      socket.once('open', () => {
        socket.terminate();
        reject(new Error('upgrade unexpectedly succeeded'));
      });
      socket.once('error', () => {});
    }, reject);
  });
}

describe('malformed upgrade requests', () => {
  it('answers 400 for a cookie whose percent-encoding is malformed, and keeps serving', async () => {
    const fixture = await server();
    for (const cookie of ['sb_token=%', 'sb_token=%E0%A4%A']) {
      expect(await refusalOf(fixture.wsUrl, { cookie })).toEqual({
        status: UpgradeStatus.BAD_REQUEST,
        body: { error: 'malformed percent-encoding in the cookie' },
      });
    }
    const socket = await connectRaw(fixture.wsUrl, await fixture.sign('alice'));
    socket.close();
  });

  it('refuses with 500 (never an unhandled rejection) when something throws past authentication', async () => {
    const escaped: unknown[] = [];
    const onEscaped = (error: unknown) => escaped.push(error);
    process.on('unhandledRejection', onEscaped);
    process.on('uncaughtException', onEscaped);
    try {
      const fixture = await server({
        // A user object that throws when read stands for any bug between authentication and the switch.
        authenticate: (req: IncomingMessage) =>
          req.headers['x-broken']
            ? ({
                get userId(): string {
                  throw new Error('broken user');
                },
              } as never)
            : { userId: 'alice', name: 'alice', roles: [] },
      });
      expect(await refusalOf(fixture.wsUrl, { 'x-broken': '1' })).toEqual({
        status: 500,
        body: { error: 'internal error' },
      });
      const { default: WebSocket } = await import('ws');
      const socket = new WebSocket(fixture.wsUrl);
      await new Promise((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('error', reject);
      });
      socket.close();
      expect(escaped).toEqual([]);
    } finally {
      process.off('unhandledRejection', onEscaped);
      process.off('uncaughtException', onEscaped);
    }
  });
});

describe('maxConnectionsPerUser', () => {
  it('refuses the user past the limit with 429 and a reason, while other users still connect', async () => {
    const fixture = await server({ maxConnectionsPerUser: 3 });
    const alice = await fixture.sign('alice');
    const open = [];
    for (let i = 0; i < 3; i++) open.push(await connectRaw(fixture.wsUrl, alice));
    expect(await refusalOf(`${fixture.wsUrl}?token=${alice}`)).toEqual({
      status: UpgradeStatus.TOO_MANY_CONNECTIONS,
      body: { error: 'too many connections for this user (limit 3): close one first' },
    });
    const bob = await connectRaw(fixture.wsUrl, await fixture.sign('bob'));
    expect(open.every((s) => s.readyState === s.OPEN)).toBe(true);
    for (const socket of [...open, bob]) socket.close();
  });

  it('releases the slot when a connection closes: the user can reconnect', async () => {
    const fixture = await server({ maxConnectionsPerUser: 2 });
    const alice = await fixture.sign('alice');
    const open = [await connectRaw(fixture.wsUrl, alice), await connectRaw(fixture.wsUrl, alice)];
    expect(await upgradeStatusOf(`${fixture.wsUrl}?token=${alice}`)).toBe(UpgradeStatus.TOO_MANY_CONNECTIONS);
    for (let round = 0; round < 5; round++) {
      const closed = closeOf(open[0]!);
      open[0]!.close();
      await closed;
      await until(() => fixture.server.registry.countByUser('alice') === 1, 5000, 'slot released');
      open[0] = await connectRaw(fixture.wsUrl, alice);
    }
    expect(fixture.server.registry.countByUser('alice')).toBe(2);
    for (const socket of open) socket.close();
  });

  it('holds under concurrent upgrades of one user: exactly the limit opens', async () => {
    const fixture = await server({ maxConnectionsPerUser: 3 });
    const carol = await fixture.sign('carol');
    const { default: WebSocket } = await import('ws');
    const outcomes = await Promise.all(
      Array.from(
        { length: 12 },
        () =>
          new Promise<{ socket?: InstanceType<typeof WebSocket>; status?: number }>((resolve) => {
            const socket = new WebSocket(`${fixture.wsUrl}?token=${carol}`);
            socket.once('open', () => resolve({ socket }));
            socket.once('unexpected-response', (_req, res) => {
              resolve({ status: res.statusCode });
              socket.terminate();
            });
            socket.once('error', () => {});
          }),
      ),
    );
    expect(outcomes.filter((o) => o.socket)).toHaveLength(3);
    expect(outcomes.filter((o) => o.status === UpgradeStatus.TOO_MANY_CONNECTIONS)).toHaveLength(9);
    expect(fixture.server.registry.countByUser('carol')).toBe(3);
    for (const outcome of outcomes) outcome.socket?.close();
  });
});
