// contract.ts: the channel definitions, imported by the server and the client.
import { defineChannel } from '@switchboard/protocol';
import { z } from 'zod';

export const chat = defineChannel({
  family: 'chat',
  events: {
    message: { schema: z.object({ text: z.string().min(1).max(2000) }) },
    typing: { schema: z.object({ typing: z.boolean() }), ephemeral: true }, // live only, never stored
  },
});
