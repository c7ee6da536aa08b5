import type { ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { ErrorCode, SwitchboardError } from '@switchboard/protocol';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useCleanup } from './__tests__/lifecycle.ts';
import { startTestServer } from './__tests__/testServer.ts';
import type { HttpRequestHandler } from './httpHandler.ts';

const track = useCleanup();

/** What escaped the request boundary: with these listeners installed, it no longer ends the test process. */
const escaped: unknown[] = [];
const onEscaped = (error: unknown) => escaped.push(error);
beforeEach(() => {
  process.on('unhandledRejection', onEscaped);
  process.on('uncaughtException', onEscaped);
});
afterEach(() => {
  process.off('unhandledRejection', onEscaped);
  process.off('uncaughtException', onEscaped);
  escaped.length = 0;
});

async function serve(onHttpRequest: HttpRequestHandler) {
  const lines: { level: number; msg: string; status?: number; url?: string }[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  const fixture = track(
    await startTestServer({ onHttpRequest, logger: pino({ level: 'info' }, sink) }),
    (f) => f.close(),
  );
  return { base: `http://127.0.0.1:${fixture.port}`, warnings: () => lines.filter((l) => l.level === 40) };
}

const ok = (res: ServerResponse): void => void res.writeHead(200).end('ok');

describe('request boundary (onHttpRequest)', () => {
  it.each([
    [
      'throws synchronously',
      () => {
        throw new Error('boom');
      },
    ],
    [
      'rejects',
      async () => {
        throw new Error('boom');
      },
    ],
    ['rejects with a non-Error', () => Promise.reject('boom')],
  ] as const)('answers 500 without detail and logs a warning when the handler %s', async (_, fail) => {
    const { base, warnings } = await serve((req, res) => (req.url?.startsWith('/fail') ? fail() : ok(res)));
    const response = await fetch(`${base}/fail?token=secret`);
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: 'internal error' });
    expect((await fetch(`${base}/ok`)).status).toBe(200);
    expect(escaped).toEqual([]);
    expect(warnings()).toEqual([
      expect.objectContaining({ msg: 'HTTP request failed', status: 500, url: '/fail?token=[redacted]' }),
    ]);
  });

  it('answers a SwitchboardError with the status of its code and its message', async () => {
    const { base } = await serve(async () => {
      throw new SwitchboardError(ErrorCode.BAD_REQUEST, 'malformed cookie');
    });
    const response = await fetch(`${base}/`);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'malformed cookie' });
    expect(escaped).toEqual([]);
  });

  it('cuts a response that already started instead of writing a second head', async () => {
    const { base, warnings } = await serve(async (_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
      await new Promise((resolve) => setTimeout(resolve, 10));
      throw new Error('failed while streaming');
    });
    const response = await fetch(`${base}/`);
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
    expect(escaped).toEqual([]);
    expect(warnings()).toHaveLength(1);
  });

  it('answers 404 when no handler is configured', async () => {
    const fixture = track(await startTestServer(), (f) => f.close());
    const response = await fetch(`http://127.0.0.1:${fixture.port}/anything`);
    expect(response.status).toBe(404);
  });
});
