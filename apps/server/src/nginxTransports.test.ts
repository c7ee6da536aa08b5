/**
 * deploy/nginx.conf serves both transports (issue 14) in front of two real instances on one Redis: a
 * WebSocket client and an SSE client on different instances see each other's messages, and an SSE event
 * arrives through nginx as it is written (not held in a proxy buffer until the stream ends).
 */
import { request } from 'node:http';
import { startRedisServer } from '@switchboard/server/testing';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startNginx } from './__tests__/nginx.ts';
import { signToken, startServerProcess } from './__tests__/serverProcess.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Collects the message texts of a raw SSE stream of `channel.subscribe`. */
function openSse(url: string, token: string) {
  const texts: string[] = [];
  let status = 0;
  const req = request(url, { headers: { authorization: `Bearer ${token}` } }, (res) => {
    status = res.statusCode ?? 0;
    let buffer = '';
    res.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const data = /^data: (.*)$/m.exec(buffer.slice(0, end))?.[1];
        buffer = buffer.slice(end + 2);
        const envelope = data?.startsWith('{"json"') ? JSON.parse(data).json : undefined;
        if (envelope?.type === 'message') texts.push(envelope.payload.text);
      }
    });
  });
  req.on('error', () => {});
  req.end();
  cleanups.push(async () => req.destroy());
  return { texts, status: () => status };
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('deploy/nginx.conf with both transports', () => {
  it('carries SSE and WebSocket clients of two instances on one Redis, events unbuffered', async () => {
    const redis = await startRedisServer();
    cleanups.push(() => redis.close());
    const instances = [];
    for (let i = 0; i < 2; i++) {
      const instance = await startServerProcess({ REDIS_URL: redis.url });
      cleanups.push(() => instance.stop());
      instances.push(instance);
    }
    const nginx = await startNginx(instances.map((i) => i.port));
    cleanups.push(() => nginx.stop());
    const base = `http://127.0.0.1:${nginx.port}`;
    const input = encodeURIComponent(JSON.stringify({ json: { channel: 'chat:nginx' } }));
    const sse = openSse(`${base}/trpc/channel.subscribe?input=${input}`, await signToken('alice'));
    const socket = new WebSocket(`${nginx.wsUrl}?token=${await signToken('bob')}`);
    cleanups.push(async () => socket.close());
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    await until(() => sse.status() === 200, 'the SSE stream');
    // Give the stream its turn to go live before publishing (history is empty, so nothing is lost either way).
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (let i = 0; i < 6; i++) {
      // Over the WebSocket (tRPC wire protocol) and over HTTP, alternately; least_conn spreads them.
      if (i % 2 === 0) {
        socket.send(
          JSON.stringify({
            id: i + 1,
            method: 'mutation',
            params: {
              path: 'channel.publish',
              input: { json: { channel: 'chat:nginx', type: 'message', payload: { text: String(i) } } },
            },
          }),
        );
      } else {
        const answer = await fetch(`${base}/trpc/channel.publish`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${await signToken('carol')}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({
            json: { channel: 'chat:nginx', type: 'message', payload: { text: String(i) } },
          }),
        });
        expect(answer.status).toBe(200);
      }
      // Each event is seen before the next is sent: a buffering proxy would hold them until the stream ends.
      await until(() => sse.texts.length === i + 1, `message ${i} through nginx`, 5000);
    }
    expect(sse.texts).toEqual(['0', '1', '2', '3', '4', '5']);
  }, 60_000);
});
