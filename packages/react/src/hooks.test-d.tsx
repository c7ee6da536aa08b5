import type { ChannelStatus, ConnectionState, PublishResult, SwitchboardClient } from '@switchboard/client';
import type { ChannelEvent, Gap, PresenceMember, PublishOutput } from '@switchboard/protocol';
import { chatChannel } from '@switchboard/protocol/demo';
import { describe, expectTypeOf, it } from 'vitest';
import type { TestRouter } from './__tests__/testServer.ts';
import { useChannel } from './useChannel.ts';
import { useConnectionState } from './useConnectionState.ts';
import { usePresence } from './usePresence.ts';
import { usePublish } from './usePublish.ts';
import { useSwitchboard } from './useSwitchboard.ts';
import { useTRPC } from './useTRPC.ts';

describe('hook types', () => {
  it('types useChannel from the channel definition', () => {
    const { events, status, gap } = useChannel(chatChannel, 'room', {
      onEvent(event) {
        expectTypeOf(event).toEqualTypeOf<ChannelEvent<typeof chatChannel>>();
      },
    });
    expectTypeOf(events).toEqualTypeOf<readonly ChannelEvent<typeof chatChannel>[]>();
    expectTypeOf(status).toEqualTypeOf<ChannelStatus>();
    expectTypeOf(gap).toEqualTypeOf<Gap | null>();
    expectTypeOf(usePresence(chatChannel, 'room')).toEqualTypeOf<readonly PresenceMember[]>();
    expectTypeOf(useConnectionState()).toEqualTypeOf<ConnectionState>();
  });

  it('types usePublish per event type', () => {
    const publish = usePublish(chatChannel, 'room');
    expectTypeOf(publish('message', { text: 'hi' })).toEqualTypeOf<Promise<PublishResult>>();
    // @ts-expect-error: wrong payload for `message`
    publish('message', { typing: true });
    // @ts-expect-error: unknown event type
    publish('shout', { text: 'hi' });
  });

  it('types useSwitchboard and useTRPC with the router, and the built-in procedures without one', () => {
    expectTypeOf(useSwitchboard<TestRouter>()).toEqualTypeOf<SwitchboardClient<TestRouter>>();
    expectTypeOf(useSwitchboard<TestRouter>().trpc.whoami.query()).resolves.toEqualTypeOf<{
      userId: string;
    }>();
    expectTypeOf(
      useSwitchboard().trpc.channel.publish.mutate({ channel: 'chat:room', type: 'message', payload: {} }),
    ).resolves.toEqualTypeOf<PublishOutput>();
    const options = useTRPC<TestRouter>().whoami.queryOptions();
    expectTypeOf(options.queryKey).not.toBeAny();
  });
});
