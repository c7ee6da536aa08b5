import type { CollabService } from '@switchboard/collab/server';
import {
  collabOpenInputSchema,
  collabOpsInputSchema,
  collabSubmitInputSchema,
} from '@switchboard/protocol/demo';
import { initSwitchboard } from '@switchboard/server';
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
      /** Every committed op after `fromVersion`, in version order, without gaps, then live. */
      ops: procedure
        .input(collabOpsInputSchema)
        .subscription(({ input, signal }) => deps.collab.ops({ ...input, signal })),
    }),
  });
}

export type AppRouter = ReturnType<typeof createAppRouter>;
