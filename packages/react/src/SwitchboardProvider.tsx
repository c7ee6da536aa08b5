import type { SwitchboardClient } from '@switchboard/client';
import { QueryClient, QueryClientContext, QueryClientProvider } from '@tanstack/react-query';
import type { TRPCClient } from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';
import { type ReactNode, useContext, useState } from 'react';
import { SwitchboardContext, trpcContext } from './context.ts';

export interface SwitchboardProviderProps<TRouter extends AnyTRPCRouter = AnyTRPCRouter> {
  client: SwitchboardClient<TRouter>;
  /** The TanStack Query client; defaults to the one of an enclosing QueryClientProvider, else a new one. */
  queryClient?: QueryClient;
  children: ReactNode;
}

/**
 * Makes a Switchboard client available to the hooks, with tRPC's TanStack Query integration (`useTRPC`).
 * The client's lifetime is the caller's: create it outside render (or in an effect) and close it there.
 */
export function SwitchboardProvider<TRouter extends AnyTRPCRouter>({
  client,
  queryClient,
  children,
}: SwitchboardProviderProps<TRouter>) {
  const enclosing = useContext(QueryClientContext);
  const [fallback] = useState(() => new QueryClient());
  const resolved = queryClient ?? enclosing ?? fallback;
  const tree = (
    <trpcContext.TRPCProvider trpcClient={client.trpc as TRPCClient<AnyTRPCRouter>} queryClient={resolved}>
      {children}
    </trpcContext.TRPCProvider>
  );
  return (
    <SwitchboardContext.Provider value={client as unknown as SwitchboardClient}>
      {resolved === enclosing ? tree : <QueryClientProvider client={resolved}>{tree}</QueryClientProvider>}
    </SwitchboardContext.Provider>
  );
}
