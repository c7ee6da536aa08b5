import type { Envelope } from '@switchboard/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { connectTrpc, startTestServer, type TestServer, until } from './__tests__/testServer.ts';

let fixture: TestServer | undefined;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await fixture?.close();
  fixture = undefined;
});

describe('createSwitchboardServer', () => {
  it('serves queries and channel events to the official @trpc/client', async () => {
    fixture = await startTestServer();
    const alice = connectTrpc(fixture.wsUrl, await fixture.sign('alice'));
    const bob = connectTrpc(fixture.wsUrl, await fixture.sign('bob'));
    cleanups.push(alice.close, bob.close);
    expect(await alice.trpc.whoami.query()).toEqual({ userId: 'alice', name: 'alice' });

    const received: Envelope[] = [];
    const started = new Promise<void>((resolve) => {
      const sub = bob.trpc.channel.subscribe.subscribe(
        { channel: 'chat:room-1' },
        { onStarted: () => resolve(), onData: (item) => received.push(item.data as Envelope) },
      );
      cleanups.push(() => sub.unsubscribe());
    });
    await started;
    await until(() => fixture!.server.metrics.stats.subscriptions === 1);
    const { id } = await alice.trpc.channel.publish.mutate({
      channel: 'chat:room-1',
      type: 'message',
      payload: { text: 'hi' },
    });
    await until(() => received.some((e) => e.type === 'message'));
    const message = received.find((e) => e.type === 'message')!;
    expect(message).toMatchObject({
      id,
      type: 'message',
      channel: 'chat:room-1',
      payload: { text: 'hi' },
      sender: { userId: 'alice' },
    });
  });
});
