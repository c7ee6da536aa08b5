import type { Envelope, Gap } from '@switchboard/protocol';
import { chatChannel } from '@switchboard/protocol/demo';
import { useCleanup } from '@switchboard/server/testing';
import { describe, expect, it } from 'vitest';
import { type DemoProcess, devLogin, startDemoProcess } from './__tests__/demoServer.ts';
import { countingGetToken, testClient } from './__tests__/testClient.ts';
import { collector, stateMatching } from './__tests__/waitFor.ts';
import type { ChannelStatus } from './channelSession.ts';

const track = useCleanup();

describe('resume across a real server process restart', () => {
  it('reconnects after SIGKILL and a restart on the same port, and reports the lost history as a gap', async () => {
    let demo: DemoProcess = await startDemoProcess();
    track(null, () => demo.kill());
    const { port } = demo;
    const token = await devLogin(demo.httpUrl, 'alice');
    const tokens = countingGetToken(() => token);
    const alice = track(testClient({ url: demo.wsUrl, getToken: tokens.getToken }), (c) => c.close());
    const room = alice.channel(chatChannel, 'restart');
    const events = collector<Envelope>();
    const gaps = collector<Gap>();
    const statuses = collector<ChannelStatus>();
    room.subscribe({
      onEvent: (event) => events.push(event),
      onGap: (gap) => gaps.push(gap),
      onStatus: (status) => statuses.push(status),
    });
    await statuses.waitFor(2, 'live');
    const { id: lastEventId } = await room.publish('message', { text: 'before' });
    await events.waitFor(1);

    await demo.kill();
    const lost = await stateMatching(alice, (s) => s.status === 'reconnecting', 'reconnecting');
    expect(lost.lastClose).toEqual({ code: 1006, reason: '' });

    demo = await startDemoProcess(port);
    await stateMatching(alice, (s) => s.status === 'open', 'open after the restart', 10_000);
    // The in-memory broker died with the process: new epoch, empty history. Resume cannot be served, and
    // the client is told instead of silently missing events.
    const [gap] = await gaps.waitFor(1);
    expect(gap).toEqual({ recovered: false, reason: 'epoch-changed', lastEventId });
    await statuses.waitFor(4, 'live again');
    expect(statuses.items).toEqual(['subscribing', 'live', 'resuming', 'live']);

    await room.publish('message', { text: 'after' });
    const received = await events.waitFor(2);
    expect(received.map((event) => (event.payload as { text: string }).text)).toEqual(['before', 'after']);
    expect(tokens.calls).toBeGreaterThanOrEqual(2);
  }, 40_000);
});
