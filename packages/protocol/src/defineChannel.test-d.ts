import { expectTypeOf, test } from 'vitest';
import { z } from 'zod';
import {
  type ChannelEvent,
  defineChannel,
  type EventPayloads,
  type PublishableEventType,
} from './defineChannel.ts';

const chat = defineChannel({
  family: 'chat',
  events: {
    message: { schema: z.object({ text: z.string() }) },
    typing: { schema: z.object({ typing: z.boolean() }), ephemeral: true },
    system: { schema: z.object({ note: z.string() }), clientPublish: false },
  },
});

test('payload types come from the schemas', () => {
  expectTypeOf<EventPayloads<typeof chat>['message']>().toEqualTypeOf<{ text: string }>();
  expectTypeOf<EventPayloads<typeof chat>['typing']>().toEqualTypeOf<{ typing: boolean }>();
});

test('server-only event types are not publishable', () => {
  expectTypeOf<PublishableEventType<typeof chat>>().toEqualTypeOf<'message' | 'typing'>();
});

test('delivered events narrow by type', () => {
  const handle = (event: ChannelEvent<typeof chat>) => {
    if (event.type === 'message') expectTypeOf(event.payload).toEqualTypeOf<{ text: string }>();
  };
  expectTypeOf(handle).toBeFunction();
  expectTypeOf(chat.name('x')).toEqualTypeOf<`chat:${string}`>();
});
