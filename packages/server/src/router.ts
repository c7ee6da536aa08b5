import {
  ErrorCode,
  errorCodeOfTrpc,
  isSwitchboardError,
  presenceInputSchema,
  publishInputSchema,
  refreshInputSchema,
  SwitchboardError,
  setPresenceInputSchema,
  subscribeInputSchema,
  transformer,
} from '@switchboard/protocol';
import { initTRPC } from '@trpc/server';
import type { AuthUser } from './auth.ts';
import type { ChannelService } from './channels.ts';
import { describeInvalidInput, toTRPCError } from './errors.ts';
import type { Registry } from './registry.ts';

/**
 * The `channel.subscribe` procedures built by `initSwitchboard`. Their resolver returns a `ChannelStream` and
 * never reads `signal`, so the WebSocket handler serves them without an `AbortController` (about 760 bytes
 * with its signal in Node, for as long as the subscription lasts). A procedure an app builds itself is
 * not in here and gets its signal as usual.
 */
const signalFreeProcedures = new WeakSet<object>();

/** Whether `procedure` is a built-in `channel.subscribe` (see `signalFreeProcedures`). */
export function ignoresSignal(procedure: unknown): boolean {
  return typeof procedure === 'function' && signalFreeProcedures.has(procedure);
}

/** Server services procedures may use, e.g. `ctx.switchboard.channels.publishAsServer(...)`. */
export interface SwitchboardServices {
  channels: ChannelService;
  registry: Registry;
  /** Re-verifies a token on a live connection (in-band refresh) and moves its expiry. */
  refreshToken(connectionId: string, token: string): Promise<AuthUser>;
  instanceId: string;
}

/** The tRPC context of every procedure served by Switchboard. */
export interface SwitchboardContext {
  /** The user verified at the upgrade (JWT or `authenticate`). Every connection is authenticated. */
  user: AuthUser;
  connectionId: string;
  switchboard: SwitchboardServices;
  /**
   * Over HTTP, counts this call against the caller's rate limit (false: over it). Absent over WebSocket,
   * where every message is counted as it arrives. Each call of a batch is admitted or refused on its own.
   */
  admitCall?: () => boolean;
}

/**
 * Creates the tRPC builders for a Switchboard app, with the shared transformer and context, and the
 * built-in routers to mount: `channel` (subscribe/publish/presence) and `auth` (in-band token refresh).
 *
 * @example
 * const { router, procedure, channelRouter, authRouter } = initSwitchboard();
 * export const appRouter = router({ channel: channelRouter, auth: authRouter, hello: procedure.query(() => 'hi') });
 */
export function initSwitchboard() {
  const t = initTRPC.context<SwitchboardContext>().create({
    transformer,
    errorFormatter({ shape, error }) {
      // Stack traces stay in the server's logs: this server faces the public internet.
      const { stack: _stack, ...data } = shape.data;
      const invalidInput = describeInvalidInput(error);
      if (invalidInput) {
        return { ...shape, message: invalidInput, data: { ...data, switchboardCode: ErrorCode.BAD_REQUEST } };
      }
      const switchboardCode = isSwitchboardError(error.cause)
        ? error.cause.code
        : errorCodeOfTrpc(error.code);
      return { ...shape, data: { ...data, switchboardCode } };
    },
  });
  // Domain errors (SwitchboardError) become tRPC errors with their own code, for every procedure, in one place.
  const procedure = t.procedure.use(async ({ ctx, next }) => {
    if (ctx.admitCall && !ctx.admitCall()) {
      throw toTRPCError(new SwitchboardError(ErrorCode.RATE_LIMITED, 'over the rate limit: retry later'));
    }
    const result = await next();
    if (!result.ok) throw toTRPCError(result.error);
    return result;
  });

  const subscribe = procedure
    .input(subscribeInputSchema)
    .subscription(({ ctx, input }) => ctx.switchboard.channels.subscribe(ctx, input));
  signalFreeProcedures.add(subscribe);
  const channelRouter = t.router({
    subscribe,
    publish: procedure
      .input(publishInputSchema)
      .mutation(({ ctx, input }) => ctx.switchboard.channels.publish(ctx, input)),
    presence: procedure.input(presenceInputSchema).query(async ({ ctx, input }) => ({
      members: await ctx.switchboard.channels.presence(ctx, input.channel),
    })),
    setPresence: procedure
      .input(setPresenceInputSchema)
      .mutation(({ ctx, input }) => ctx.switchboard.channels.setPresence(ctx, input)),
  });

  const authRouter = t.router({
    /** Replaces the connection's credential before it expires, so the connection stays open. */
    refresh: procedure.input(refreshInputSchema).mutation(async ({ ctx, input }) => {
      const user = await ctx.switchboard.refreshToken(ctx.connectionId, input.token);
      return { expiresAt: user.expiresAt ?? null };
    }),
  });

  return {
    router: t.router,
    procedure,
    middleware: t.middleware,
    mergeRouters: t.mergeRouters,
    createCallerFactory: t.createCallerFactory,
    channelRouter,
    authRouter,
  };
}
