/**
 * `@switchboard/collab/server`: the Node half of collaborative editing. A `DocStore` keeps documents
 * (`createMemoryDocStore` for one process, `createRedisDocStore` for many); `createCollabService` turns it
 * into the `collab.open`, `collab.submit` and `collab.ops` procedures.
 *
 * ```ts
 * const collab = createCollabService({ store: createRedisDocStore({ redis: process.env.REDIS_URL }) });
 * open: ({ input }) => collab.open(input.docId),
 * submit: ({ input, ctx }) => collab.submit({ ...input, userId: ctx.user.userId }),
 * ops: async ({ input, signal }) => tracked versions of await collab.ops({ ...input, signal }),
 * ```
 * (`apps/server/src/appRouter.ts` yields each op as `tracked(String(op.version), op)`, so a resubscribing
 * `@trpc/client` resumes from `lastEventId`.) Options and defaults: `options.ts` (`maxDocumentChars`,
 * `retainOps`, `documentTtlMs`).
 */

export type { CollabService } from './collabService.ts';
export { createCollabService } from './collabService.ts';
export type {
  CommitResult,
  DocLog,
  DocSnapshot,
  DocStore,
  DocStoreListener,
  OpRange,
} from './docStore.ts';
export { createMemoryDocStore } from './memoryDocStore.ts';
export type { OpsInput } from './opsStream.ts';
export type { CollabServiceOptions, DocStoreOptions, RedisDocStoreOptions } from './options.ts';
export { createRedisDocStore } from './redisDocStore.ts';
export type { SubmitInput } from './submitOp.ts';
