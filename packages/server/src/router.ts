import {
  ErrorCode,
  errorCodeOfTrpc,
  isSwitchboardError,
  presenceInputSchema,
  publishInputSchema,
  refreshInputSchema,
  type SubscribeInput,
  SwitchboardError,
  setPresenceInputSchema,
  subscribeInputSchema,
  transformer,
} from '@switchboard/protocol';
import { getTRPCErrorFromUnknown, initTRPC, TRPCError } from '@trpc/server';
import type { AuthUser } from './auth.ts';
import type { ChannelService } from './channels.ts';
import { describeInvalidInput, toTRPCError } from './errors.ts';
import type { ChannelStream } from './fanout.ts';
import type { Registry } from './registry.ts';

/**
 * The `channel.subscribe` procedures built by `initSwitchboard`, by identity: nothing can be added to a built
 * procedure, so one found here has exactly the steps `subscribeToChannel` takes. A procedure an app builds
 * itself (even one that calls `channels.subscribe`) is not in here and goes through tRPC.
 */
const builtInChannelSubscribes = new WeakSet<object>();

/** Whether `procedure` is a built-in `channel.subscribe` (see `builtInChannelSubscribes`). */
export function isBuiltInChannelSubscribe(procedure: unknown): boolean {
  return typeof procedure === 'function' && builtInChannelSubscribes.has(procedure);
}

/**
 * The built-in `channel.subscribe` without tRPC's procedure call around it (a chain of middleware closures
 * and object spreads, about 20 µs of a connect): the same steps in the same order, ending the same way.
 * The Switchboard middleware's admission; tRPC's input validation (a BAD_REQUEST `TRPCError` whose cause is
 * the validation error, as tRPC's input middleware throws it); the resolver; and a thrown error as tRPC
 * reports it (`getTRPCErrorFromUnknown`), then as the middleware maps it (`toTRPCError`). Its resolver
 * never reads `signal`, so none is needed. `requestDispatch.test.ts` checks both paths answer alike.
 */
export async function subscribeToChannel(ctx: SwitchboardContext, rawInput: unknown): Promise<ChannelStream> {
  assertAdmitted(ctx);
  let input: SubscribeInput;
  try {
    input = await subscribeInputSchema.parseAsync(rawInput);
  } catch (cause) {
    throw toTRPCError(new TRPCError({ code: 'BAD_REQUEST', cause }));
  }
  try {
    return await ctx.switchboard.channels.subscribe(ctx, input);
  } catch (cause) {
    throw toTRPCError(getTRPCErrorFromUnknown(cause));
  }
}

/** Over HTTP, refuses a call over its caller's rate limit (see `SwitchboardContext.admitCall`). */
function assertAdmitted(ctx: SwitchboardContext): void {
  if (ctx.admitCall && !ctx.admitCall()) {
    throw toTRPCError(new SwitchboardError(ErrorCode.RATE_LIMITED, 'over the rate limit: retry later'));
  }
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
    assertAdmitted(ctx);
    const result = await next();
    if (!result.ok) throw toTRPCError(result.error);
    return result;
  });

  const subscribe = procedure
    .input(subscribeInputSchema)
    .subscription(({ ctx, input }) => ctx.switchboard.channels.subscribe(ctx, input));
  builtInChannelSubscribes.add(subscribe);
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
