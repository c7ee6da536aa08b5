import type { ChannelProcedures, SwitchboardClient } from '@switchboard/client';
import type { AnyTRPCRouter } from '@trpc/server';
import { useContext } from 'react';
import { SwitchboardContext } from './context.ts';

/**
 * The client as `useSwitchboard()` returns it without a router type: channels, connection state, and the
 * built-in `channel.*` procedures typed from the protocol (tRPC's proxy for an unknown router types nothing).
 */
export type UntypedSwitchboardClient = Omit<SwitchboardClient, 'trpc'> & { readonly trpc: ChannelProcedures };

/**
 * The client of the nearest `SwitchboardProvider`. Pass the app's router type for a fully typed `trpc`:
 * `useSwitchboard<AppRouter>()`.
 */
export function useSwitchboard(): UntypedSwitchboardClient;
export function useSwitchboard<TRouter extends AnyTRPCRouter>(): SwitchboardClient<TRouter>;
export function useSwitchboard(): SwitchboardClient | UntypedSwitchboardClient {
  const client = useContext(SwitchboardContext);
  if (!client) {
    throw new Error(
      'No Switchboard client set: wrap your components in <SwitchboardProvider client={createSwitchboardClient(...)}>',
    );
  }
  return client;
}
