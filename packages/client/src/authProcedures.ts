import type { TRPCClient } from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';

/**
 * The built-in `auth.*` procedures (`initSwitchboard().authRouter`), which an app may mount or not. The
 * client is generic over the app's router, so the token refresh reaches them through this view of it; on
 * a router without them the call fails with NOT_FOUND.
 */
export interface AuthProcedures {
  auth: {
    refresh: {
      mutate(
        input: { token: string },
        options?: { signal?: AbortSignal },
      ): Promise<{ expiresAt: number | null }>;
    };
  };
}

export function authProceduresOf<TRouter extends AnyTRPCRouter>(trpc: TRPCClient<TRouter>): AuthProcedures {
  return trpc as unknown as AuthProcedures;
}
