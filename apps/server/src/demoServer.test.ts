import { transformer } from '@switchboard/protocol';
import type { DashboardEvent } from '@switchboard/protocol/demo';
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { readConfig } from './config.ts';
import { type AppRouter, type DemoServer, startDemoServer } from './index.ts';

let demo: DemoServer;
beforeAll(async () => {
  demo = await startDemoServer(readConfig({ PORT: '0', AUTH_SECRET: 'demo-test-secret-0123456789abcdef' }), {
    logger: pino({ level: 'silent' }),
  });
});
afterAll(() => demo.close());

const login = (body: unknown, raw?: string) =>
  fetch(`${demo.url}/auth/dev-login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: raw ?? JSON.stringify(body),
  });

describe('demo server HTTP', () => {
  it('answers health, readiness and Prometheus metrics', async () => {
    expect(await (await fetch(`${demo.url}/healthz`)).json()).toEqual({ status: 'ok' });
    expect((await fetch(`${demo.url}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${demo.url}/metrics`)).text();
    for (const name of [
      'switchboard_connections',
      'switchboard_messages_received_total',
      'switchboard_messages_sent_total',
      'switchboard_channels',
      'switchboard_publish_duration_seconds',
      'process_resident_memory_bytes',
    ]) {
      expect(metrics).toContain(name);
    }
  });

  it('logs in with a name: token, user id and an HttpOnly cookie', async () => {
    const response = await login({ name: 'alice' });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { token: string; userId: string };
    expect(body.token.split('.')).toHaveLength(3);
    expect(body.userId).toMatch(/^u_/);
    expect(response.headers.get('set-cookie')).toMatch(/sb_token=.+; HttpOnly/);
    const check = await fetch(`${demo.url}/auth/check`, {
      headers: { authorization: `Bearer ${body.token}` },
    });
    expect(await check.json()).toMatchObject({ ok: true, userId: body.userId, name: 'alice' });
  });

  it.each([
    ['a missing name', {}],
    ['an empty name', { name: '   ' }],
    ['a name over 100 characters', { name: 'x'.repeat(101) }],
    ['a wrongly typed name', { name: 42 }],
  ])('refuses %s with 400 and a JSON error', async (_, body) => {
    const response = await login(body);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: expect.any(String) });
  });

  it('refuses a non-JSON body with 400', async () => {
    const response = await login(undefined, 'name=alice');
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(/JSON/);
  });

  it('answers 401 on /auth/check without valid credentials', async () => {
    expect((await fetch(`${demo.url}/auth/check`)).status).toBe(401);
    expect((await fetch(`${demo.url}/auth/check?token=garbage`)).status).toBe(401);
  });

  it('serves an index page linking the three apps', async () => {
    const html = await (await fetch(`${demo.url}/`)).text();
    for (const app of ['/chat/', '/dashboard/', '/collab/']) expect(html).toContain(`href="${app}"`);
  });

  it('serves a favicon the index page links, also where browsers look by themselves', async () => {
    const html = await (await fetch(`${demo.url}/`)).text();
    expect(html).toContain('<link rel="icon" href="/favicon.svg" type="image/svg+xml">');
    for (const path of ['/favicon.svg', '/favicon.ico']) {
      const response = await fetch(`${demo.url}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('image/svg+xml');
      expect(await response.text()).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[\s\S]*<\/svg>$/);
    }
  });

  it('does not serve files outside an app folder', async () => {
    const response = await fetch(`${demo.url}/chat/..%2f..%2fpackage.json`);
    expect([400, 404, 503]).toContain(response.status);
    expect(await response.text()).not.toContain('"name"');
  });
});

describe('dashboard.live', () => {
  it('sends a snapshot, then deltas computed from the /metrics counters', async () => {
    const { token } = (await (await login({ name: 'ops' })).json()) as { token: string };
    const wsClient = createWSClient({
      url: `${demo.url.replace('http', 'ws')}/ws?token=${token}`,
      WebSocket: WebSocket as never,
    });
    const trpc = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient, transformer })] });
    const events: DashboardEvent[] = [];
    const sub = trpc.dashboard.live.subscribe(undefined, { onData: (event) => events.push(event) });
    const deadline = Date.now() + 5000;
    while (events.filter((e) => e.kind === 'delta').length < 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    sub.unsubscribe();
    wsClient.close();
    expect(events[0]?.kind).toBe('snapshot');
    const delta = events.find((e) => e.kind === 'delta');
    if (delta?.kind !== 'delta') throw new Error('no delta within 5 s');
    const own = delta.instances.find((i) => i.instanceId === demo.server.instanceId);
    expect(own?.connections).toBeGreaterThanOrEqual(1);
    expect(own?.rssBytes).toBeGreaterThan(0);
  });
});

describe('dev-login rate limit', () => {
  it('answers 429 once one address logs in too often, and logs nothing else in', async () => {
    const statuses = [];
    for (let i = 0; i < 30; i++) statuses.push((await login({ name: `flood-${i}` })).status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(10);
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
  });
});
