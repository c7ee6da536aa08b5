import { type Envelope, ErrorCode } from '@switchboard/protocol';
import { chatChannel } from '@switchboard/protocol/demo';
import { useCleanup } from '@switchboard/server/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { recordingWebSocket } from './__tests__/recordingWebSocket.ts';
import { testClient } from './__tests__/testClient.ts';
import { signToken, startTestServer } from './__tests__/testServer.ts';
import { collector, stateMatching } from './__tests__/waitFor.ts';
import type { ChannelStatus } from './channelSession.ts';
import { toSwitchboardError } from './errors.ts';

const track = useCleanup();

describe('operations made while no socket is open', () => {
  // The attacks (repro_sub_error_after_drop, repro_calls_while_reconnecting): a socket drop, then calls and a
  // subscription in the same tick or a few ms later, while the client is `reconnecting`. tRPC's client opened
  // a socket of its own for them, its reconnect loop closed it (1005), and they failed with CONNECTION_LOST
  // without having been sent; the subscription stayed in `error` for good.
  it('waits for the connection: calls are answered, subscriptions go live, the client closes no socket (property)', async () => {
    const fixture = track(await startTestServer(), (f) => f.close());
    const publisher = track(testClient({ url: fixture.wsUrl, getToken: () => signToken('pub') }), (c) =>
      c.close(),
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(0, 0, 1, 3, 10, 25),
        fc.constantFrom('server', 'client'),
        async (delayMs, who) => {
          const room = `gate-${run++}`;
          const recorder = recordingWebSocket();
          const client = testClient({
            url: fixture.wsUrl,
            getToken: () => signToken('alice'),
            WebSocket: recorder.WebSocket,
          });
          try {
            await stateMatching(client, (s) => s.status === 'open', 'open');
            const closesBefore = recorder.closedByClient.length;
            if (who === 'server') fixture.dropConnections();
            else recorder.terminateAll();
            if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
            const statuses: ChannelStatus[] = [];
            const errors: string[] = [];
            const events = collector<Envelope>();
            client.channel(chatChannel, room).subscribe({
              onEvent: (event) => events.push(event),
              onStatus: (status) => statuses.push(status),
              onError: (error) => errors.push(`${error.code}: ${error.message}`),
            });
            const answer = client.trpc.whoami.query();
            expect(await answer).toEqual({ userId: 'alice', name: 'alice' });
            await stateMatching(client, (s) => s.status === 'open', 'open again');
            await new Promise<void>((resolve, reject) => {
              const timer = setTimeout(() => reject(new Error(`not live: ${statuses} ${errors}`)), 5000);
              const check = setInterval(() => {
                if (statuses.at(-1) !== 'live') return;
                clearInterval(check);
                clearTimeout(timer);
                resolve();
              }, 5);
            });
            await publisher.channel(chatChannel, room).publish('message', { text: 'after' });
            await events.waitFor(1, 'the event published after the drop');
            expect(statuses).not.toContain('error');
            expect(errors).toEqual([]);
            // Only the socket the test killed closed; the client closed none of its own.
            expect(recorder.closedByClient.slice(closesBefore)).toEqual([]);
          } finally {
            await client.close();
          }
        },
      ),
      { seed: 20251, numRuns: 12, endOnFailure: true },
    );
  });

  it('sends a query again when its socket closed before the answer; a mutation then rejects CONNECTION_LOST', async () => {
    const fixture = track(await startTestServer(), (f) => f.close());
    const recorder = recordingWebSocket();
    const client = track(
      testClient({ url: fixture.wsUrl, getToken: () => signToken('alice'), WebSocket: recorder.WebSocket }),
      (c) => c.close(),
    );
    await stateMatching(client, (s) => s.status === 'open', 'open');

    // The frame leaves the client and the socket dies with it: the outcome is unknown to the client.
    recorder.loseNextFrameOf('whoami');
    expect(await client.trpc.whoami.query()).toEqual({ userId: 'alice', name: 'alice' });
    expect(recorder.inputsOf('whoami')).toHaveLength(2);

    await stateMatching(client, (s) => s.status === 'open', 'open again');
    recorder.loseNextFrameOf('channel.publish');
    const failure = await client.trpc.channel.publish
      .mutate({ channel: 'chat:lost', type: 'message', payload: { text: 'x' } })
      .catch(toSwitchboardError);
    expect(failure).toMatchObject({ code: ErrorCode.CONNECTION_LOST });
    expect(recorder.inputsOf('channel.publish')).toHaveLength(1);
  });
});
