import { CloseCode } from '@switchboard/protocol';
import { describe, expect, it } from 'vitest';
import { useCleanup } from './__tests__/lifecycle.ts';
import { closeOf, connectRaw, startTestServer, upgradeStatusOf } from './__tests__/testServer.ts';

const track = useCleanup();

describe('close()', () => {
  it('sends the reconnect notification, refuses new upgrades, closes stragglers with 1001 and resolves when all are gone', async () => {
    const fixture = await startTestServer({ drainTimeoutMs: 200 });
    const token = await fixture.sign('alice');
    const socket = track(await connectRaw(fixture.wsUrl, token), (s) => s.terminate());
    const frames: string[] = [];
    socket.on('message', (data) => frames.push(data.toString()));
    const closed = closeOf(socket);
    const closing = fixture.close();
    expect(await upgradeStatusOf(`${fixture.wsUrl}?token=${token}`).catch(() => 'refused')).toSatisfy(
      (status) => status === 503 || status === 'refused',
    );
    expect(fixture.server.accepting).toBe(false);
    // A client that ignores the notification is closed with 1001 after the drain timeout.
    expect(await closed).toEqual({ code: CloseCode.GOING_AWAY, reason: 'server shutting down' });
    expect(frames).toContain(JSON.stringify({ id: null, method: 'reconnect' }));
    await closing;
    expect(fixture.server.registry.size).toBe(0);
  });

  it('resolves as soon as clients leave after the notification', async () => {
    const fixture = await startTestServer({ drainTimeoutMs: 10_000 });
    const socket = await connectRaw(fixture.wsUrl, await fixture.sign('alice'));
    socket.on('message', (data) => {
      if (data.toString().includes('"reconnect"')) socket.close();
    });
    const started = Date.now();
    await fixture.close();
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('is idempotent', async () => {
    const fixture = await startTestServer();
    await Promise.all([fixture.close(), fixture.close()]);
    await fixture.close();
  });
});
