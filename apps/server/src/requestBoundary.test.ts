/**
 * The request boundary (issue 11, class 1): no client input ends the process. A seeded fast-check fuzzer
 * writes raw requests (malformed targets and percent-encoding, odd methods, hostile cookies and headers,
 * WebSocket upgrades) against every route of the demo server and asserts, after each one, a well-formed
 * answer below 500, a healthy `/healthz`, and no unhandled rejection or exception in this process (the demo
 * server runs in-process, so anything that would have crashed it lands in the listeners below).
 * Replay a failure with FC_SEED=<seed printed by fast-check>; FUZZ_STATS=1 prints how many answers had each
 * status, to check after changing the generators that they still reach every handler, not only 404 and 400.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RawRequest, sendRaw } from './__tests__/rawHttp.ts';
import { readConfig } from './config.ts';
import { HTTP_ROUTE_PATHS } from './httpRoutes.ts';
import { type DemoServer, startDemoServer } from './index.ts';
import { DEMO_APPS } from './staticApps.ts';

const SECRET = 'boundary-test-secret-0123456789abcdef';
const SEED = Number(process.env.FC_SEED ?? 20_110);

let demo: DemoServer;
let appsDir: string;
let validToken: string;
const escaped: unknown[] = [];
const onEscaped = (error: unknown) => escaped.push(error);

beforeAll(async () => {
  // Built apps with an asset each, so static serving reads real files instead of answering "not built".
  appsDir = mkdtempSync(join(tmpdir(), 'sb-apps-'));
  for (const app of DEMO_APPS) {
    mkdirSync(join(appsDir, app.name, 'dist', 'assets'), { recursive: true });
    writeFileSync(join(appsDir, app.name, 'dist', 'index.html'), `<!doctype html><title>${app.name}</title>`);
    writeFileSync(join(appsDir, app.name, 'dist', 'assets', 'app.js'), 'export {};');
  }
  demo = await startDemoServer(readConfig({ PORT: '0', AUTH_SECRET: SECRET, APPS_DIR: appsDir }), {
    logger: pino({ level: 'silent' }),
  });
  validToken = await new SignJWT({ name: 'fuzz' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('fuzz')
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(SECRET));
  process.on('unhandledRejection', onEscaped);
  process.on('uncaughtException', onEscaped);
});
afterAll(async () => {
  process.off('unhandledRejection', onEscaped);
  process.off('uncaughtException', onEscaped);
  await demo?.close();
  rmSync(appsDir, { recursive: true, force: true });
});
afterEach(() => {
  escaped.length = 0;
});

/** Every route of the demo server, plus the WebSocket path, `/trpc` (planned) and forms of request target. */
const routes = [
  ...HTTP_ROUTE_PATHS,
  ...DEMO_APPS.flatMap((app) => [`/${app.name}`, `/${app.name}/`]),
  '/ws',
  '/trpc',
];
const targetPrefixes = [...routes, '', '/', '//', '*', 'http://[', 'http://127.0.0.1', 'http://127.0.0.1:1/'];
const fragments = [
  '%',
  '%E0%A4%A',
  '%ZZ',
  '%00',
  '%2e%2e%2f',
  '..',
  '/',
  '//',
  '%C0%AF',
  '%F0%9F%98%80',
  '%2F',
  '%25',
  'assets',
  'assets/app.js',
  'index.html',
  '[',
  ']',
  '@',
  ';',
  '~',
  'a',
];
const tokenText = () =>
  fc.oneof(
    fc.constantFrom('', '%', '%E0%A4%A', 'garbage', 'a.b.c', 'eyJ%', '%00'),
    // Read when the property runs: the token is signed in beforeAll.
    fc.constant(null).map(() => validToken),
    fc.string({ maxLength: 12 }).map(encodeURIComponent),
  );
const query = fc.oneof(
  fc.constant(''),
  tokenText().map((token) => `?token=${token}`),
  fc.array(fc.constantFrom(...fragments), { maxLength: 3 }).map((parts) => `?${parts.join('')}`),
);
const target = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom('//', 'http://[/', '/%', '/chat/%E0%A4%A', '*', '/ws?token=%') },
  // A route as it is, with a query: reaches the handlers past routing.
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...routes), query).map(([route, q]) => `${route}${q}`) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...targetPrefixes),
        fc.array(fc.constantFrom(...fragments), { maxLength: 4 }),
        query,
      )
      .map(([prefix, parts, q]) => `${prefix}${parts.join('')}${q}`)
      .filter((t) => t.length > 0),
  },
);
const header = fc.oneof(
  tokenText().map((t) => ['Cookie', `sb_token=${t}`] as const),
  fc.constantFrom('sb_token', '=%; sb_token=%E0%A4%A', 'a=%; b', '').map((c) => ['Cookie', c] as const),
  fc
    .constantFrom('null', 'http://[', '%', 'https://evil.example', 'http://127.0.0.1', '')
    .map((o) => ['Origin', o] as const),
  tokenText().map((t) => ['Authorization', `Bearer ${t}`] as const),
  fc.constantFrom('Bearer', 'Basic Zm9v', '%').map((a) => ['Authorization', a] as const),
  fc.constantFrom('1.2.3.4', '%', 'garbage, ::1', '', '[').map((x) => ['X-Forwarded-For', x] as const),
  fc.constantFrom('application/json', 'text/plain', '%').map((c) => ['Content-Type', c] as const),
);
const noUpgrade: readonly (readonly [string, string])[] = [];
const upgradeHeaders = fc.oneof(
  { weight: 4, arbitrary: fc.constant(noUpgrade) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<readonly (readonly [string, string])[]>(
      [
        ['Connection', 'Upgrade'],
        ['Upgrade', 'websocket'],
        ['Sec-WebSocket-Version', '13'],
        ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
      ],
      [
        ['Connection', 'Upgrade'],
        ['Upgrade', 'websocket'],
        ['Sec-WebSocket-Version', '8'],
        ['Sec-WebSocket-Key', 'x'],
      ],
    ),
  },
);
const body = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(
    '',
    '{"name":"alice"}',
    '{"name":"%"}',
    '{"name":"\u202e\u200b"}',
    '{"name":{"constructor":1}}',
    '{"__proto__":{"name":"x"}}',
    'not json',
    `{"name":"${'x'.repeat(5000)}"}`,
  ),
  fc.json({ maxDepth: 2 }),
);
/** Any method with any target, or a route with the method it serves (so handlers past routing run). */
const methodAndTarget = fc.oneof(
  fc.record({
    method: fc.constantFrom('GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'FOO'),
    target,
  }),
  fc
    .tuple(fc.constantFrom(...routes), query)
    .map(([route, q]) => ({ method: route === '/auth/dev-login' ? 'POST' : 'GET', target: `${route}${q}` })),
);
const request: fc.Arbitrary<RawRequest> = fc
  .record({
    methodAndTarget,
    host: fc.constantFrom('127.0.0.1', '127.0.0.1', '127.0.0.1', '[', '%', 'evil.example'),
    headers: fc.array(header, { maxLength: 4 }),
    upgrade: upgradeHeaders,
    body,
  })
  .map(({ methodAndTarget: { method, target }, host, headers, upgrade, body }) => ({
    method,
    target,
    headers: [
      ['Host', host] as const,
      ...headers,
      ...(upgrade.length > 0 ? upgrade : [['Connection', 'close'] as const]),
    ],
    body,
  }));

async function healthy(): Promise<number> {
  const response = await sendRaw(demo.port, {
    method: 'GET',
    target: '/healthz',
    headers: [
      ['Host', '127.0.0.1'],
      ['Connection', 'close'],
    ],
  });
  return response.status;
}

const statuses = new Map<number, number>();
describe('request boundary', () => {
  it('answers every fuzzed request below 500 and stays healthy after each', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (raw) => {
        const response = await sendRaw(demo.port, raw);
        if (process.env.FUZZ_STATS) statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        expect(response.status, response.head).toBeGreaterThanOrEqual(100);
        expect(response.status, response.head).toBeLessThan(500);
        expect(await healthy()).toBe(200);
        // An unhandled rejection is reported after the microtask queue drained: the health check above
        // took at least one round trip, which is long enough.
        expect(escaped).toEqual([]);
      }),
      { seed: SEED, numRuns: 1000, interruptAfterTimeLimit: 15_000 },
    );
    if (process.env.FUZZ_STATS) console.log(Object.fromEntries(statuses));
  }, 30_000);

  it.each([
    ['a malformed cookie on /auth/check', 400, '/auth/check', [['Cookie', 'sb_token=%']]],
    ['percent-encoding cut mid-character under an app', 400, '/chat/%E0%A4%A', []],
    ['a bare %', 400, '/%', []],
    ['the target http://[/', 400, 'http://[/', []],
    // `//` is a well-formed target (two empty path segments), just not a route.
    ['the target //', 404, '//', []],
  ] as const)('answers %s with %i and a JSON error', async (_, status, target, headers) => {
    const response = await sendRaw(demo.port, {
      method: 'GET',
      target,
      headers: [['Host', '127.0.0.1'], ['Connection', 'close'], ...headers],
    });
    expect(response.status).toBe(status);
    expect(JSON.parse(response.body)).toEqual({ error: expect.any(String) });
    expect(await healthy()).toBe(200);
    expect(escaped).toEqual([]);
  });
});
