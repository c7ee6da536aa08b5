import type { CollabService } from '@switchboard/collab/server';
import type { CommittedOp } from '@switchboard/protocol/demo';
import {
  collabOpenInputSchema,
  collabOpsInputSchema,
  collabSubmitInputSchema,
} from '@switchboard/protocol/demo';
import { initSwitchboard } from '@switchboard/server';
import { tracked } from '@trpc/server';
import type { ClusterStats } from './clusterStats.ts';

const { router, procedure, channelRouter, authRouter } = initSwitchboard();

export interface AppRouterDeps {
  clusterStats: () => ClusterStats;
  collab: CollabService;
}

/** The demo's tRPC API (public: keep these names). */
export function createAppRouter(deps: AppRouterDeps) {
  return router({
    channel: channelRouter,
    auth: authRouter,
    dashboard: router({
      /** A snapshot of the last minutes, then a delta every second, for every instance. */
      live: procedure.subscription(({ signal }) => deps.clusterStats().live(signal)),
    }),
    collab: router({
      /** The document's current version and text (latest snapshot plus the op log's tail). */
      open: procedure.input(collabOpenInputSchema).query(({ input }) => deps.collab.open(input.docId)),
      /** Transforms the op against everything committed since `version`, commits it, returns its version. */
      submit: procedure
        .input(collabSubmitInputSchema)
        .mutation(({ ctx, input }) => deps.collab.submit({ ...input, userId: ctx.user.userId })),
      /**
       * Every committed op after `fromVersion`, in version order, without gaps, then live. Each op is
       * `tracked` with its version as id, so a reconnecting `@trpc/client` resumes after the last op it
       * received (`lastEventId`) instead of replaying from `fromVersion`. The position is checked before the
       * stream starts, so a bad one fails the subscription with BAD_REQUEST.
       */
      ops: procedure
        .input(collabOpsInputSchema)
        .subscription(async ({ input, signal }) =>
          trackVersions(await deps.collab.ops({ ...input, signal })),
        ),
    }),
  });
}

export type AppRouter = ReturnType<typeof createAppRouter>;

/** Each op as tRPC's `tracked(version, op)`: the client then sends the last version back as `lastEventId`. */
async function* trackVersions(ops: AsyncIterable<CommittedOp>) {
  for await (const op of ops) yield tracked(String(op.version), op);
}
