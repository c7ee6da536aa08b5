import { z } from 'zod';
import { defineChannel } from '../defineChannel.ts';

/** Largest op a client may submit, in components. */
export const MAX_OP_COMPONENTS = 1000;
/** Largest inserted text in one op, in characters. */
export const MAX_OP_TEXT_LENGTH = 10_000;

export const docIdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/);

/**
 * An `ot-text-unicode` op: a list of components, each a skip (positive integer), an insert (string) or a
 * delete (`{ d: count | deletedText }`). Positions count Unicode code points.
 */
export const textOpComponentSchema = z.union([
  z.number().int().positive(),
  z.string().min(1).max(MAX_OP_TEXT_LENGTH),
  z.object({ d: z.union([z.number().int().positive(), z.string().min(1).max(MAX_OP_TEXT_LENGTH)]) }),
]);
export const textOpSchema = z.array(textOpComponentSchema).max(MAX_OP_COMPONENTS);
export type TextOpWire = z.infer<typeof textOpSchema>;

export const opIdSchema = z.string().min(1).max(64);

export const collabOpenInputSchema = z.object({ docId: docIdSchema });
export const collabSubmitInputSchema = z.object({
  docId: docIdSchema,
  version: z.number().int().nonnegative(),
  op: textOpSchema,
  opId: opIdSchema,
});
export const collabOpsInputSchema = z.object({
  docId: docIdSchema,
  fromVersion: z.number().int().nonnegative(),
});

/** A committed op: applying it to version `version - 1` gives version `version`. */
export const committedOpSchema = z.object({
  version: z.number().int().positive(),
  op: textOpSchema,
  opId: opIdSchema,
  userId: z.string(),
});
export type CommittedOp = z.infer<typeof committedOpSchema>;

/** `collab:<docId>` carries cursors and selections as ephemeral events, and presence. */
export const collabChannel = defineChannel({
  family: 'collab',
  events: {
    cursor: {
      schema: z.object({
        version: z.number().int().nonnegative(),
        anchor: z.number().int().nonnegative(),
        head: z.number().int().nonnegative(),
        color: z.string().max(32),
      }),
      ephemeral: true,
    },
  },
});
