import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { readConfig } from './config.ts';
import { type DemoServer, startDemoServer } from './index.ts';

const SECRET = 'dev-login-test-secret-0123456789abcdef';

/** Runs `body` against a demo server configured from `env`, then closes it. */
async function withDemo(env: Record<string, string>, body: (demo: DemoServer) => Promise<void>) {
  const demo = await startDemoServer(readConfig({ PORT: '0', AUTH_SECRET: SECRET, ...env }), {
    logger: pino({ level: 'silent' }),
  });
  try {
    await body(demo);
  } finally {
    await demo.close();
  }
}

function login(demo: DemoServer, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${demo.url}/auth/dev-login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

describe('dev login in production', () => {
  it('is refused with 403 and the opt-in named when NODE_ENV=production', async () => {
    await withDemo({ NODE_ENV: 'production' }, async (demo) => {
      const response = await login(demo, { name: 'alice' });
      expect(response.status).toBe(403);
      expect(((await response.json()) as { error: string }).error).toMatch(/DEV_LOGIN=1/);
      expect(response.headers.get('set-cookie')).toBeNull();
    });
  });

  it('works in production only with DEV_LOGIN=1', async () => {
    await withDemo({ NODE_ENV: 'production', DEV_LOGIN: '1' }, async (demo) => {
      expect((await login(demo, { name: 'alice' })).status).toBe(200);
    });
  });

  it('can be turned off outside production with DEV_LOGIN=0', async () => {
    await withDemo({ DEV_LOGIN: '0' }, async (demo) => {
      expect((await login(demo, { name: 'alice' })).status).toBe(403);
    });
  });
});

describe('dev login display names', () => {
  it('strips control, bidi and zero-width characters, NFC-normalises, and refuses what is left empty', async () => {
    await withDemo({}, async (demo) => {
      const cleaned = await login(demo, { name: ' \u202Eal\u200Bice\u2066 Jose\u0301\u0007 ' });
      expect(cleaned.status).toBe(200);
      const { token, name } = (await cleaned.json()) as { token: string; name: string };
      expect(name).toBe('alice Jos\u00E9');
      // What the token carries is what everyone else sees.
      const check = await fetch(`${demo.url}/auth/check`, { headers: { authorization: `Bearer ${token}` } });
      expect(await check.json()).toMatchObject({ name: 'alice Jos\u00E9' });

      const empty = await login(demo, { name: '\u200B\u202E\u2068\uFEFF\u0000' });
      expect(empty.status).toBe(400);
      expect(await empty.json()).toEqual({
        error: 'name has no visible characters (control, bidi and zero-width characters are removed)',
      });
      const long = await login(demo, { name: `${'x'.repeat(99)}\u200B` });
      expect(((await long.json()) as { name: string }).name).toBe('x'.repeat(99));
      expect((await login(demo, { name: 'x'.repeat(101) })).status).toBe(400);
    });
  });
});

describe('dev login rate limit behind a proxy', () => {
  const burst = async (demo: DemoServer, forwardedFor: (i: number) => string) => {
    const statuses: number[] = [];
    for (let i = 0; i < 15; i++) {
      statuses.push((await login(demo, { name: `u${i}` }, { 'x-forwarded-for': forwardedFor(i) })).status);
    }
    return statuses;
  };

  it('ignores X-Forwarded-For without TRUST_PROXY: a client cannot pick a fresh bucket', async () => {
    await withDemo({}, async (demo) => {
      const statuses = await burst(demo, (i) => `203.0.113.${i}`);
      expect(statuses).toContain(429);
    });
  });

  it('with TRUST_PROXY=1 keys by the address the proxy appended, so users behind it do not share a bucket', async () => {
    await withDemo({ TRUST_PROXY: '1' }, async (demo) => {
      expect(await burst(demo, (i) => `203.0.113.${i}`)).toEqual(Array(15).fill(200));
    });
  });

  it('with TRUST_PROXY=1 never reads what the client wrote left of the proxy entry', async () => {
    await withDemo({ TRUST_PROXY: '1' }, async (demo) => {
      const statuses = await burst(demo, (i) => `198.51.100.${i}, 203.0.113.7`);
      expect(statuses).toContain(429);
    });
  });
});
