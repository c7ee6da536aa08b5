import type { ChannelEvent, PresenceMember } from '@switchboard/protocol';
import { chatChannel, userChannel } from '@switchboard/protocol/demo';
import { describe, expectTypeOf, it } from 'vitest';
import type { TestRouter } from './__tests__/testServer.ts';
import type { PublishResult } from './channel.ts';
import type { ChannelStatus } from './channelSession.ts';
import type { ConnectionState } from './connectionState.ts';
import type { createSwitchboardClient } from './createSwitchboardClient.ts';

declare const client: ReturnType<typeof createSwitchboardClient<TestRouter>>;
const room = client.channel(chatChannel, 'room');

describe('channel types', () => {
  it('types publish from the definition', () => {
    expectTypeOf(room.publish('message', { text: 'hi' })).toEqualTypeOf<Promise<PublishResult>>();
    expectTypeOf(room.publish('typing', { typing: true })).toEqualTypeOf<Promise<PublishResult>>();
    // @ts-expect-error: unknown event type
    room.publish('nope', { text: 'hi' });
    // @ts-expect-error: wrong payload type
    room.publish('message', { text: 42 });
    // @ts-expect-error: payload of another event type
    room.publish('message', { typing: true });
    // @ts-expect-error: `notice` is server-only (clientPublish: false)
    client.channel(userChannel, 'u1').publish('notice', { text: 'hi' });
  });

  it('narrows delivered events on their type', () => {
    room.subscribe({
      onEvent(event) {
        expectTypeOf(event).toEqualTypeOf<ChannelEvent<typeof chatChannel>>();
        if (event.type === 'message') expectTypeOf(event.payload).toEqualTypeOf<{ text: string }>();
        else expectTypeOf(event.payload).toEqualTypeOf<{ typing: boolean }>();
        // @ts-expect-error: not an event type of this channel
        if (event.type === 'notice') return;
      },
      onPresence(members) {
        expectTypeOf(members).toEqualTypeOf<readonly PresenceMember[]>();
      },
      onStatus(status) {
        expectTypeOf(status).toEqualTypeOf<ChannelStatus>();
      },
    });
  });

  it('types the tRPC client from the router and the connection state as a union', () => {
    expectTypeOf(client.trpc.whoami.query()).resolves.toEqualTypeOf<{ userId: string; name: string }>();
    const state = client.connection.getSnapshot();
    expectTypeOf(state).toEqualTypeOf<ConnectionState>();
    expectTypeOf(state.authError).toEqualTypeOf<'unauthorized' | 'forbidden' | undefined>();
    if (state.status === 'open') expectTypeOf(state.nextRetryAt).toEqualTypeOf<undefined>();
  });
});
