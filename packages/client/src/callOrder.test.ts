import type { Envelope } from '@switchboard/protocol';
import { chatChannel } from '@switchboard/protocol/demo';
import { useCleanup } from '@switchboard/server/testing';
import { describe, expect, it } from 'vitest';
import { testClient } from './__tests__/testClient.ts';
import { signToken, startTestServer } from './__tests__/testServer.ts';
import { collector } from './__tests__/waitFor.ts';

const track = useCleanup();

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
});
