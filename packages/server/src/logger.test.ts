import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { useCleanup } from './__tests__/lifecycle.ts';
import { closeOf, connectRaw, startTestServer, upgradeStatusOf } from './__tests__/testServer.ts';
import { redactUrl } from './logger.ts';

const track = useCleanup();

describe('logging', () => {
  it('redacts tokens in query strings', () => {
    expect(redactUrl('/ws?token=abc.def.ghi&x=1')).toBe('/ws?token=[redacted]&x=1');
    expect(redactUrl('/ws?a=1&access_token=secret')).toBe('/ws?a=1&access_token=[redacted]');
  });

  it('never writes a token to the log, for accepted and refused connections', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const fixture = track(await startTestServer({ logger: pino({ level: 'debug' }, sink) }), (f) =>
      f.close(),
    );
    const token = await fixture.sign('alice');
    const socket = await connectRaw(fixture.wsUrl, token);
    socket.send('{broken');
    await closeOf(socket);
    const expired = await fixture.sign('alice', { expiresInSec: -10 });
    await upgradeStatusOf(`${fixture.wsUrl}?token=${expired}`);
    const log = lines.join('');
    expect(log).toContain('connection opened');
    expect(log).toContain('upgrade refused');
    expect(log).not.toContain(token);
    expect(log).not.toContain(expired);
    expect(log).not.toContain(token.split('.')[2]);
  });
});
