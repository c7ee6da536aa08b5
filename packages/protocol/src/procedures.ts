import { z } from 'zod';
import { channelNameSchema } from './channelName.ts';
import {
  correlationIdSchema,
  eventIdSchema,
  eventTypeSchema,
  idempotencyKeySchema,
  presenceMetaSchema,
} from './envelope.ts';
import { ProtocolLimits } from './limits.ts';

/**
 * Inputs of the built-in `channel.*` procedures. The router validates with these and the client is
 * typed from them, so the two ends cannot disagree.
 */
export const subscribeInputSchema = z.object({
  channel: channelNameSchema,
  /** Resume after this event id; tRPC's wsLink fills it in on reconnect from the last tracked id. */
  lastEventId: eventIdSchema.nullish(),
  /** On a fresh subscribe (no `lastEventId`), first replay up to this many stored events, oldest first. */
  replay: z.number().int().min(0).max(ProtocolLimits.maxReplay).optional(),
});
export type SubscribeInput = z.infer<typeof subscribeInputSchema>;

export const publishInputSchema = z.object({
  channel: channelNameSchema,
  type: eventTypeSchema,
  payload: z.unknown(),
  correlationId: correlationIdSchema.optional(),
  /**
   * Makes a retry safe: a publish resent with the same key (by the same user) within the idempotency window
   * is answered with the original event id instead of being stored twice. The same key with a different
   * channel, type or payload is refused with `IDEMPOTENCY_CONFLICT`. `@switchboard/client` always sets one.
   */
  idempotencyKey: idempotencyKeySchema.optional(),
});
export type PublishInput = z.infer<typeof publishInputSchema>;

export const publishOutputSchema = z.object({
  /** Server-assigned event id; absent for ephemeral events, which are not stored. */
  id: eventIdSchema.optional(),
  correlationId: correlationIdSchema.optional(),
});
export type PublishOutput = z.infer<typeof publishOutputSchema>;

export const presenceInputSchema = z.object({ channel: channelNameSchema });
export type PresenceInput = z.infer<typeof presenceInputSchema>;

export const setPresenceInputSchema = z.object({ channel: channelNameSchema, meta: presenceMetaSchema });
export type SetPresenceInput = z.infer<typeof setPresenceInputSchema>;

/** Input of `auth.refresh`: a fresh token for the same user (a JWT is well under 8 KiB). */
export const refreshInputSchema = z.object({ token: z.string().min(1).max(8192) });
export type RefreshInput = z.infer<typeof refreshInputSchema>;
