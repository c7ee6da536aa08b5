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
 * Well-formed UTF-16: no lone surrogate. `ot-text-unicode` counts code points by pairing surrogates, so a lone
 * one would shift every position after it and the document would diverge between clients.
 */
const WELL_FORMED_UTF16 = /^(?:[^\uD800-\uDFFF]|[\uD800-\uDBFF][\uDC00-\uDFFF])*$/;
const textRunSchema = z.string().min(1).regex(WELL_FORMED_UTF16, 'text contains a lone UTF-16 surrogate');

/**
 * An `ot-text-unicode` op: a list of components, each a skip (positive integer), an insert (string) or a
 * delete (`{ d: count | deletedText }`). Positions count Unicode code points.
 * This schema bounds what a client may submit; ops the server commits are checked by `committedTextOpSchema`.
 */
export const textOpComponentSchema = z.union([
  z.number().int().positive(),
  textRunSchema.max(MAX_OP_TEXT_LENGTH),
  z.object({ d: z.union([z.number().int().positive(), textRunSchema.max(MAX_OP_TEXT_LENGTH)]) }),
]);
export const textOpSchema = z.array(textOpComponentSchema).max(MAX_OP_COMPONENTS);
export type TextOpWire = z.infer<typeof textOpSchema>;

/**
 * An op as committed by the server. Transforming a submitted op can merge its inserts (when a concurrent op
 * deleted the text between them), so committed ops carry no size limits: those apply to submissions only.
 */
export const committedTextOpSchema = z.array(
  z.union([
    z.number().int().positive(),
    textRunSchema,
    z.object({ d: z.union([z.number().int().positive(), textRunSchema]) }),
  ]),
);

export const opIdSchema = z.string().min(1).max(64);

export const collabOpenInputSchema = z.object({ docId: docIdSchema });
export const collabSubmitInputSchema = z.object({
  docId: docIdSchema,
  version: z.number().int().nonnegative(),
  op: textOpSchema,
  opId: opIdSchema,
});
/** A version as text: the `id` of each tracked `collab.ops` item, and so the `lastEventId` it resumes from. */
export const versionIdSchema = z.string().regex(/^(0|[1-9][0-9]{0,14})$/, 'lastEventId must be a version');

export const collabOpsInputSchema = z.object({
  docId: docIdSchema,
  /** The version the subscriber already has: the stream yields ops with `version > fromVersion`. */
  fromVersion: z.number().int().nonnegative(),
  /**
   * Set by `@trpc/client` when it resubscribes: the id (version) of the last op it received. When present it
   * wins over `fromVersion`, so a resumed stream continues after its last op instead of starting over.
   */
  lastEventId: versionIdSchema.nullish(),
});

/** A committed op: applying it to version `version - 1` gives version `version`. */
export const committedOpSchema = z.object({
  version: z.number().int().positive(),
  op: committedTextOpSchema,
  opId: opIdSchema,
  userId: z.string(),
});
export type CommittedOp = z.infer<typeof committedOpSchema>;

/** `collab:<docId>` carries cursors and selections as ephemeral events, and presence. */
export const collabChannel = defineChannel({
  family: 'collab',
  presence: true,
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
