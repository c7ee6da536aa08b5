/**
 * deploy/nginx.conf in front of two instances (issue 11, class 1): a request that breaks an instance must not
 * be replayed on the next one, or one request ends every instance; a dead instance is still taken out of
 * rotation. The instances are raw TCP servers so the test controls exactly how each request fails.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type Nginx, startNginx } from './__tests__/nginx.ts';
import { sendRaw } from './__tests__/rawHttp.ts';
import { freePort } from './__tests__/serverProcess.ts';

interface Instance {
  port: number;
  /** Requests that reached this instance. */
  hits: number;
  close(): Promise<void>;
}

/** An instance that answers /healthz (so the fixture sees nginx up) and dies on every other request. */
async function startInstance(): Promise<Instance> {
  const sockets = new Set<Socket>();
  const instance = { port: 0, hits: 0, close: async () => {} };
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let head = '';
    socket.on('data', (chunk) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      if (head.startsWith('GET /healthz ')) {
        socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
        return;
      }
      instance.hits++;
      // What a crashing process looks like from nginx: the connection closes without an answer.
      socket.destroy();
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  instance.port = (server.address() as { port: number }).port;
  instance.close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  return instance;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
async function nginxIn(front: number[]): Promise<Nginx> {
  const nginx = await startNginx(front);
  cleanups.push(() => nginx.stop());
  return nginx;
}

describe('deploy/nginx.conf', () => {
  it.each(['GET', 'POST', 'DELETE'])(
    'does not replay a %s that broke one instance onto the next one',
    async (method) => {
      const instances = [await startInstance(), await startInstance()];
      for (const instance of instances) cleanups.push(instance.close);
      const nginx = await nginxIn(instances.map((i) => i.port));
      const response = await fetch(`http://127.0.0.1:${nginx.port}/auth/check`, {
        method,
        ...(method === 'POST' ? { body: '{}' } : {}),
      });
      expect(response.status).toBe(502);
      expect(instances.map((i) => i.hits).reduce((a, b) => a + b)).toBe(1);
    },
  );

  it('does not replay a WebSocket upgrade that broke one instance', async () => {
    const instances = [await startInstance(), await startInstance()];
    for (const instance of instances) cleanups.push(instance.close);
    const nginx = await nginxIn(instances.map((i) => i.port));
    const response = await sendRaw(nginx.port, {
      method: 'GET',
      target: '/ws?token=x',
      headers: [
        ['Host', '127.0.0.1'],
        ['Connection', 'Upgrade'],
        ['Upgrade', 'websocket'],
        ['Sec-WebSocket-Version', '13'],
        ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
      ],
    });
    expect(response.status).toBe(502);
    expect(instances.map((i) => i.hits).reduce((a, b) => a + b)).toBe(1);
  });

  it('takes a dead instance out after one failed request', async () => {
    const live = await startInstance();
    cleanups.push(live.close);
    const dead = await freePort();
    const nginx = await nginxIn([dead, live.port]);
    // The fixture's start-up health checks already met the dead instance; count from a fresh request on.
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++)
      statuses.push((await fetch(`http://127.0.0.1:${nginx.port}/healthz`)).status);
    expect(statuses.filter((s) => s !== 200).length).toBeLessThanOrEqual(1);
  });
});
