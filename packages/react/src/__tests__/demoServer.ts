/**
 * The demo server (apps/server) in this process, on 127.0.0.1 and a free port, and clients of it for the
 * hooks to use. Register everything with `track` so `afterEach` releases it.
 */
import { request } from 'node:http';
import { type SwitchboardClient, createSwitchboardClient } from '@switchboard/client';
import { type AppRouter, readConfig, startDemoServer } from '@switchboard/demo-server';
import WebSocket from 'ws';

export type DemoClient = SwitchboardClient<AppRouter>;

export async function startDemo() {
  const config = readConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    AUTH_SECRET: 'react-test-secret-0123456789abcdef0',
    LOG_LEVEL: 'silent',
  });
  const demo = await startDemoServer(config, { drainTimeoutMs: 50 });
  const httpUrl = `http://127.0.0.1:${demo.port}`;
  return {
    server: demo.server,
    wsUrl: `ws://127.0.0.1:${demo.port}/ws`,
    /** Channel subscriptions the server holds now. */
    subscriptions: () => demo.server.metrics.stats.subscriptions,
    /** Signs in through `POST /auth/dev-login` (node:http: the DOM environment's fetch enforces CORS). */
    login: (name: string) => postJson<{ token: string }>(`${httpUrl}/auth/dev-login`, { name }),
    close: () => demo.close(),
  };
}

export function demoClient(wsUrl: string, token: string): DemoClient {
  return createSwitchboardClient<AppRouter>({
    url: wsUrl,
    getToken: () => token,
    WebSocket,
    backoff: { initialDelayMs: 20, maxDelayMs: 200 },
  });
}

function postJson<T>(url: string, body: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      res.on('end', () =>
        res.statusCode === 200 ? resolve(JSON.parse(text) as T) : reject(new Error(`HTTP ${res.statusCode}: ${text}`)),
      );
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}
