import { z } from 'zod';
import { defineChannel } from '../defineChannel.ts';

/** Maximum chat message length, in characters. */
export const MAX_CHAT_MESSAGE_LENGTH = 2000;

/** `chat:<room>`: messages are stored (history, resume); typing indicators are ephemeral. */
export const chatChannel = defineChannel({
  family: 'chat',
  presence: true,
  events: {
    message: { schema: z.object({ text: z.string().trim().min(1).max(MAX_CHAT_MESSAGE_LENGTH) }) },
    typing: { schema: z.object({ typing: z.boolean() }), ephemeral: true },
  },
});

/** `user:<userId>`: a private inbox only its owner may read; only the server writes to it. */
export const userChannel = defineChannel({
  family: 'user',
  access: 'owner',
  events: {
    notice: { schema: z.object({ text: z.string().max(500) }), clientPublish: false },
  },
});

/** Room names users may create in the chat demo: the channel key grammar, shorter and friendlier. */
export const roomNameSchema = z
  .string()
  .trim()
  .min(1)
  .max(40)
  .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, - and _ only');

/** `POST /auth/dev-login` body. */
export const devLoginInputSchema = z.object({
  name: z.string().trim().min(1, 'name is required').max(100, 'name is over 100 characters'),
});
export type DevLoginInput = z.infer<typeof devLoginInputSchema>;
