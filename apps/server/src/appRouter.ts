import { initSwitchboard } from '@switchboard/server';
import type { ClusterStats } from './clusterStats.ts';

const { router, procedure, channelRouter, authRouter } = initSwitchboard();

export interface AppRouterDeps {
  clusterStats: () => ClusterStats;
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
  });
}

export type AppRouter = ReturnType<typeof createAppRouter>;
