import { z } from 'zod';
import { channelNameSchema } from './channelName.ts';
import { ProtocolLimits } from './limits.ts';
import { describeNonPlainJson } from './plainJson.ts';

export const eventIdSchema = z.string().min(1).max(ProtocolLimits.maxEventIdLength);
export const correlationIdSchema = z.string().min(1).max(ProtocolLimits.maxCorrelationIdLength);
export const idempotencyKeySchema = z.string().min(1).max(ProtocolLimits.maxIdempotencyKeyLength);
export const eventTypeSchema = z
  .string()
  .min(1)
  .max(ProtocolLimits.maxEventTypeLength)
  .regex(/^[$A-Za-z][A-Za-z0-9_.-]*$/, 'event type must be an identifier');

/** Who published an event. Stamped by the server from the verified token; clients cannot set it. */
export const senderSchema = z.object({ userId: z.string(), name: z.string().optional() });
export type Sender = z.infer<typeof senderSchema>;

/**
 * The message envelope every channel event travels in.
 * `id` is the server-assigned event id (ordered within the channel, carries the stream epoch) used to resume.
 */
export const envelopeSchema = z.object({
  id: eventIdSchema.optional(),
  type: eventTypeSchema,
  channel: channelNameSchema,
  payload: z.unknown(),
  correlationId: correlationIdSchema.optional(),
  ts: z.number().optional(),
  sender: senderSchema.optional(),
});
export type Envelope<TType extends string = string, TPayload = unknown> = Omit<
  z.infer<typeof envelopeSchema>,
  'type' | 'payload'
> & { type: TType; payload: TPayload };

/**
 * System event types the server emits on every channel stream. They are never stored, so they carry no id;
 * clients must ignore `$` types they do not know.
 * `$gap`: resume could not be served from history (evicted or epoch changed); data between the client's
 * `lastEventId` and the next event is missing and the app should refetch state.
 */
export const SystemEventType = {
  PRESENCE: '$presence',
  GAP: '$gap',
  /**
   * `$live`: sent once per (re)subscription when history has been sent and live delivery begins. Its tracked
   * id is the subscriber's position (the channel's newest stored event on a fresh subscribe), so a client
   * that reconnects before any event arrives still resumes from the right place.
   */
  LIVE: '$live',
} as const;
export type SystemEventType = (typeof SystemEventType)[keyof typeof SystemEventType];

const utf8 = new TextEncoder();

/** Presence metadata: plain JSON of at most `maxPresenceMetaBytes` bytes (UTF-8, not characters). */
export const presenceMetaSchema = z.record(z.string().max(64), z.unknown()).superRefine((meta, ctx) => {
  const problem = describeNonPlainJson(meta);
  if (problem) ctx.addIssue({ code: 'custom', message: `presence metadata must be plain JSON${problem}` });
  else if (utf8.encode(JSON.stringify(meta)).length > ProtocolLimits.maxPresenceMetaBytes) {
    ctx.addIssue({
      code: 'custom',
      message: `presence metadata is over ${ProtocolLimits.maxPresenceMetaBytes} bytes`,
    });
  }
});
export type PresenceMeta = z.infer<typeof presenceMetaSchema>;

export const presenceMemberSchema = z.object({
  userId: z.string(),
  name: z.string(),
  connections: z.number().int().nonnegative(),
  meta: presenceMetaSchema.optional(),
});
export type PresenceMember = z.infer<typeof presenceMemberSchema>;

/** Payload of `$presence` events: a member joined, left, or changed its metadata. */
export const presenceChangeSchema = z.object({
  action: z.enum(['join', 'leave', 'update']),
  member: presenceMemberSchema,
});
export type PresenceChange = z.infer<typeof presenceChangeSchema>;

/**
 * Payload of `$gap` events. The server sends `evicted`, `epoch-changed` and `unknown-id`; the client reports
 * `not-started` itself (with `lastEventId: ''`) when a subscription asking for `replay` was lost before it
 * started and is sent again: the new replay counts back from a later moment, so events in between may be
 * missing.
 */
export const gapSchema = z.object({
  recovered: z.literal(false),
  reason: z.enum(['evicted', 'epoch-changed', 'unknown-id', 'not-started']),
  lastEventId: z.string(),
});
export type Gap = z.infer<typeof gapSchema>;
