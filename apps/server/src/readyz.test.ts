import pino from 'pino';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { readConfig } from './config.ts';
import { startDemoServer } from './index.ts';

describe('/readyz', () => {
  it('is ready with a ready broker, then says "shutting down" while connections drain', async () => {
    const demo = await startDemoServer(
      readConfig({ PORT: '0', AUTH_SECRET: 'readyz-test-secret-0123456789abcdef' }),
      {
        logger: pino({ level: 'silent' }),
        drainTimeoutMs: 2000,
      },
    );
    const ready = await fetch(`${demo.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', broker: 'ready' });

    const login = await fetch(`${demo.url}/auth/dev-login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'lingerer' }),
    });
    const { token } = (await login.json()) as { token: string };
    // A client that ignores the reconnect notification keeps the drain going for drainTimeoutMs.
    const socket = new WebSocket(`${demo.url.replace('http', 'ws')}/ws?token=${token}`);
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const closed = demo.close();
    const draining = await fetch(`${demo.url}/readyz`);
    expect(draining.status).toBe(503);
    expect(await draining.json()).toEqual({
      status: 'unavailable',
      broker: 'ready',
      reason: 'shutting down',
    });
    socket.close();
    await closed;
  });
});
