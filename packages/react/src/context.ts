import type { SwitchboardClient } from '@switchboard/client';
import type { AnyTRPCRouter } from '@trpc/server';
import { createTRPCContext } from '@trpc/tanstack-react-query';
import { createContext } from 'react';

/** The client `SwitchboardProvider` hands down. */
export const SwitchboardContext = createContext<SwitchboardClient<AnyTRPCRouter> | null>(null);

/**
 * tRPC's TanStack Query integration, created once for any router: the hooks cast to the app's router type
 * (`useTRPC<AppRouter>()`), so one provider serves every app.
 */
export const trpcContext = createTRPCContext<AnyTRPCRouter>();
