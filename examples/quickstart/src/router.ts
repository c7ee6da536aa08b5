// router.ts: your tRPC router. The client imports only its type.
import { initSwitchboard } from '@switchboard/server';

const { router, procedure, channelRouter, authRouter } = initSwitchboard();

export const appRouter = router({
  channel: channelRouter, // subscribe / publish / presence, typed by the client from your channel definitions
  auth: authRouter, // in-band token refresh for long-lived connections
  whoami: procedure.query(({ ctx }) => ctx.user), // any procedure of your own
});
export type AppRouter = typeof appRouter;
