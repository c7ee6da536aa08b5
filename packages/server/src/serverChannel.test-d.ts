/**
 * Type tests of `server.channel(def, key).publish(type, payload)`, checked by `tsc` (`pnpm typecheck`): each
 * `@ts-expect-error` fails the check if the line below it compiles.
 */
import { defineChannel, type PublishOutput } from '@switchboard/protocol';
import { expectTypeOf } from 'vitest';
import { z } from 'zod';
import type { SwitchboardServer } from './server.ts';

const chat = defineChannel({
  family: 'chat',
  events: {
    message: { schema: z.object({ text: z.string() }) },
    announcement: { schema: z.object({ title: z.string() }), clientPublish: false },
  },
});

declare const server: SwitchboardServer;
const room = server.channel(chat, 'room-1');

expectTypeOf(room.name).toEqualTypeOf<`chat:${string}`>();
expectTypeOf(room.publish('message', { text: 'hi' })).toEqualTypeOf<Promise<PublishOutput>>();
// Server-only event types are the server's to publish.
void room.publish('announcement', { title: 'maintenance at noon' });

// @ts-expect-error misspelled event type
void room.publish('mesage', { text: 'hi' });
// @ts-expect-error payload of another event type
void room.publish('message', { title: 'hi' });
// @ts-expect-error wrong payload field type
void room.publish('message', { text: 42 });
