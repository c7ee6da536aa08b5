import type { Envelope } from '@switchboard/protocol';
import { chatChannel } from '@switchboard/protocol/demo';
import { useCleanup } from '@switchboard/server/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { testClient } from './__tests__/testClient.ts';
import { signToken, startTestServer, until } from './__tests__/testServer.ts';
import { collector } from './__tests__/waitFor.ts';
import type { ChannelStatus } from './channelSession.ts';
import type { SwitchboardClient } from './createSwitchboardClient.ts';

const track = useCleanup();

/** One call of a same-tick sequence: subscribe to a channel (at most once each), or publish to one. */
type Call = { kind: 'subscribe'; channel: number } | { kind: 'publish'; channel: number; text: string };

const CHANNELS = 3;

/** Sequences of up to 12 calls over 3 channels, each channel subscribed at most once (one listener). */
const sequences = fc
  .array(
    fc.oneof(
      fc.record({ kind: fc.constant('subscribe' as const), channel: fc.nat(CHANNELS - 1) }),
      fc.record({ kind: fc.constant('publish' as const), channel: fc.nat(CHANNELS - 1) }),
    ),
    { minLength: 1, maxLength: 12 },
  )
  .map((calls) => {
    const subscribed = new Set<number>();
    return calls.flatMap((call, index): Call[] => {
      if (call.kind === 'publish') return [{ ...call, text: `m${index}` }];
      if (subscribed.has(call.channel)) return [];
      subscribed.add(call.channel);
      return [call];
    });
  });

/**
 * What one-by-one calls leave: a subscriber (replay 0) receives exactly the events published to its
 * channel after it subscribed, in call order.
 */
function expectedTexts(calls: Call[]): Map<number, string[]> {
  const expected = new Map<number, string[]>();
  for (const call of calls) {
    if (call.kind === 'subscribe') expected.set(call.channel, []);
    else expected.get(call.channel)?.push(call.text);
  }
  return expected;
}

/**
 * Makes every call in one tick, then waits for each publish and for each subscriber to be live, and ends
 * each subscribed channel with a sentinel event: anything it should not have received (an extra, or a
 * repeat) arrives before the sentinel, so the comparison waits for events, not for time.
 */
async function runInOneTick(client: SwitchboardClient, calls: Call[], prefix: string) {
  const room = (channel: number) => client.channel(chatChannel, `${prefix}-${channel}`);
  const received = new Map<number, ReturnType<typeof collector<Envelope>>>();
  const statuses = new Map<number, ChannelStatus[]>();
  const publishes: Promise<unknown>[] = [];
  for (const call of calls) {
    if (call.kind === 'subscribe') {
      const events = collector<Envelope>();
      const seen: ChannelStatus[] = [];
      received.set(call.channel, events);
      statuses.set(call.channel, seen);
      room(call.channel).subscribe({ onEvent: (event) => events.push(event), onStatus: (s) => seen.push(s) });
    } else {
      publishes.push(room(call.channel).publish('message', { text: call.text }));
    }
  }
  await Promise.all(publishes);
  await until(() => [...statuses.values()].every((seen) => seen.includes('live')), 'every subscriber live');
  const texts = new Map<number, string[]>();
  for (const [channel, events] of received) {
    await room(channel).publish('message', { text: 'sentinel' });
    const textsOf = () => events.items.map((event) => (event.payload as { text: string }).text);
    await until(() => textsOf().includes('sentinel'), `the sentinel on channel ${channel}`);
    texts.set(channel, textsOf().slice(0, textsOf().indexOf('sentinel')));
  }
  return texts;
}

describe('call order', () => {
  it('delivers an event published right after subscribe, in the same tick (the README quick start)', async () => {
    const fixture = track(await startTestServer(), (f) => f.close());
    const alice = track(testClient({ url: fixture.wsUrl, getToken: () => signToken('alice') }), (c) =>
      c.close(),
    );
    const room = alice.channel(chatChannel, 'room');
    const events = collector<Envelope>();
    room.subscribe({ onEvent: (event) => events.push(event) });
    const { id } = await room.publish('message', { text: 'hello' });
    expect((await events.waitFor(1, 'the event', 2000))[0]).toMatchObject({ id });
  });

  it('leaves calls made in one tick in call order: same tick ≡ one by one (property)', async () => {
    const fixture = track(await startTestServer(), (f) => f.close());
    let run = 0;
    await fc.assert(
      fc.asyncProperty(sequences, async (calls) => {
        const client = testClient({ url: fixture.wsUrl, getToken: () => signToken('alice') });
        try {
          const received = await runInOneTick(client, calls, `run${run++}`);
          expect(received).toEqual(expectedTexts(calls));
        } finally {
          await client.close();
        }
      }),
      { numRuns: 30, seed: 12, endOnFailure: true },
    );
  });
});
