import type { AnyTRPCRouter } from '@trpc/server';
import type { TRPCOptionsProxy } from '@trpc/tanstack-react-query';
import { trpcContext } from './context.ts';
import { useSwitchboard } from './useSwitchboard.ts';

/**
 * tRPC's TanStack Query options proxy for the app's router, e.g.
 * `useQuery(useTRPC<AppRouter>().collab.open.queryOptions({ docId }))`.
 */
export function useTRPC<TRouter extends AnyTRPCRouter = AnyTRPCRouter>(): TRPCOptionsProxy<TRouter> {
  // First, so a missing provider gets Switchboard's message rather than tRPC's.
  useSwitchboard<TRouter>();
  return trpcContext.useTRPC() as unknown as TRPCOptionsProxy<TRouter>;
}
