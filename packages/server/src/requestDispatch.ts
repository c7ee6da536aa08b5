import { ErrorCode, SwitchboardError, transformer } from '@switchboard/protocol';
import { type AnyTRPCRouter, callTRPCProcedure, getErrorShape, transformTRPCResponse } from '@trpc/server';
import type { TRPCResponseMessage } from '@trpc/server/rpc';
import { pumpAppSubscription } from './appSubscription.ts';
import type { LiveConnection } from './connection.ts';
import type { ConnectionChannels, Subscription } from './connectionChannels.ts';
import { connectionErrors, toTRPCError } from './errors.ts';
import { type ChannelStream, type Fanout, isChannelStream } from './fanout.ts';
import { readInboundFrame } from './inboundFrame.ts';
import type { ServerStats } from './metrics.ts';
import type { ResolvedServerOptions } from './options.ts';
import type { Presence } from './presence.ts';
import {
  isBuiltInChannelSubscribe,
  type SwitchboardContext,
  type SwitchboardServices,
  subscribeToChannel,
} from './router.ts';
import type { RequestMessage } from './wireMessages.ts';

export interface RequestDispatchDeps {
  router: AnyTRPCRouter;
  fanout: Fanout;
  presence: Presence;
  services: SwitchboardServices;
  stats: ServerStats;
  options: ResolvedServerOptions;
}

/**
 * tRPC's wire protocol on the server side, so `@trpc/client`'s wsLink works unchanged: reads each inbound
 * frame, admits its messages against the connection's rate limit, runs each request's procedure and answers
 * it, and routes a `channel.subscribe` to the fan-out table. One per server: everything it keeps about a
 * connection lives on the connection (`LiveConnection`, `ConnectionChannels`).
 */
export class RequestDispatcher {
  constructor(private readonly deps: RequestDispatchDeps) {}

  /**
   * Handles one inbound frame of `connection`. Throws only on a bug; the connection's message listener
   * turns that into a 1011 close.
   */
  handleFrame(connection: LiveConnection, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    if (connection.refusing) return;
    connection.lastSeenAt = Date.now();
    this.deps.stats.messagesReceived++;
    const { options } = this.deps;
    const frame = readInboundFrame(data, isBinary, {
      maxPayloadBytes: options.maxPayloadBytes,
      maxBatchSize: options.rateLimitBurst,
    });
    if (frame.kind === 'refused') {
      connection.failAfterAnswers(frame.error);
      return;
    }
    if (frame.kind === 'pong') return;
    if (frame.kind === 'ping') {
      connection.admit(false);
      connection.send('PONG');
      return;
    }
    for (const message of frame.messages) {
      if (connection.closed || connection.refusing) return;
      if (message.method === 'connectionParams') continue;
      if (message.method === 'subscription.stop') {
        // Stops release what a client holds: counted, never refused.
        connection.admit(false);
        const subscription = connection.channels?.find(message.id);
        if (subscription) connection.channels!.stop(subscription);
        continue;
      }
      if (!connection.admit(true)) {
        this.respondError(
          connection,
          message,
          new SwitchboardError(
            ErrorCode.RATE_LIMITED,
            `over ${options.rateLimitPerSecond} messages per second: retry later`,
          ),
        );
        continue;
      }
      this.dispatch(connection, message);
    }
  }

  /** Dispatches one request. Called synchronously for each message of a frame, in order. */
  private dispatch(connection: LiveConnection, message: RequestMessage): void {
    const { id, method, params } = message;
    let input: unknown;
    try {
      input = params.input === undefined ? undefined : transformer.deserialize(params.input as never);
    } catch {
      connection.failAfterAnswers(connectionErrors.malformed('input is not valid superjson'));
      return;
    }
    // tRPC's client sends the resume position beside the input; procedures see it in the input.
    if (params.lastEventId !== undefined) {
      input =
        typeof input === 'object' && input !== null
          ? { ...input, lastEventId: params.lastEventId }
          : { lastEventId: params.lastEventId };
    }
    // A request whose id is still in flight (or an active subscription's) is a retransmission, not a new
    // request: `@trpc/client` can send a request again on the socket it reconnected with while the first
    // copy is being served. Served once, answered once; never stored twice or refused as a duplicate (an
    // error would end the client's live subscription).
    if (connection.channels?.find(id) || connection.calls?.has(id)) {
      connection.log().debug({ id, path: params.path }, 'request id already in flight: ignored');
      return;
    }
    let subscription: Subscription | undefined;
    // The built-in `channel.subscribe` (most requests) is run without tRPC's procedure call, and without
    // the AbortController (760 bytes with its signal, for as long as it lasts) its resolver never reads.
    const builtIn =
      method === 'subscription' && isBuiltInChannelSubscribe(this.deps.router._def.procedures[params.path]);
    if (method === 'subscription') {
      const channels = connection.channelsHeld();
      if (channels.activeCount() >= this.deps.options.maxSubscriptionsPerConnection) {
        connection.failAfterAnswers(connectionErrors.tooManySubscriptions());
        return;
      }
      // Reserved now, not when the request's turn comes, so a stop (or a duplicate) in the same frame is seen.
      subscription = channels.open(id, !builtIn);
    } else {
      connection.calls ??= new Set();
      connection.calls.add(id);
    }
    const run = () => this.handleRequest(connection, message, input, subscription, builtIn);
    const channel = channelOf(input);
    connection.serve(channel === undefined ? run() : connection.channelsHeld().inOrder(channel, run));
  }

  private async handleRequest(
    connection: LiveConnection,
    message: RequestMessage,
    input: unknown,
    subscription: Subscription | undefined,
    builtIn: boolean,
  ): Promise<void> {
    const { id, method, params } = message;
    const ctx = contextOf(connection, this.deps.services);
    if (subscription?.stopped || connection.closed) return;
    try {
      const result = builtIn
        ? await subscribeToChannel(ctx, input)
        : await callTRPCProcedure({
            router: this.deps.router,
            path: params.path,
            getRawInput: async () => input,
            ctx,
            type: method,
            signal: subscription?.abort?.signal,
            batchIndex: 0,
          });
      if (!subscription) {
        connection.calls?.delete(id);
        this.respond(connection, { id, result: { type: 'data', data: result } });
        return;
      }
      if (subscription.stopped) return;
      if (isChannelStream(result)) {
        await this.attachChannel(connection, subscription, result);
        return;
      }
      const channels = connection.channelsHeld();
      // An app's own stream always has its signal: only the built-in `channel.subscribe` goes without, and
      // it returns a channel stream.
      const signal = subscription.abort?.signal;
      const pumping =
        signal !== undefined &&
        pumpAppSubscription(result, signal, {
          result: (item) => this.respond(connection, { id, result: item }),
          error: (cause) => this.respondError(connection, message, cause, ctx),
          done: () => channels.release(subscription),
        });
      if (!pumping) throw new Error('subscription did not return an async iterable or observable');
      this.respond(connection, { id, result: { type: 'started' } });
    } catch (cause) {
      if (subscription && !subscription.stopped) connection.channels?.release(subscription);
      if (!subscription) connection.calls?.delete(id);
      this.respondError(connection, message, cause, ctx);
    }
  }

  /** Attaches a `channel.subscribe` to the fan-out table, within the connection's channel limit. */
  private async attachChannel(
    connection: LiveConnection,
    subscription: Subscription,
    stream: ChannelStream,
  ): Promise<void> {
    const { channel, presence } = stream;
    const channels: ConnectionChannels = connection.channelsHeld();
    const { maxChannelsPerConnection } = this.deps.options;
    if (!channels.canEnter(channel, maxChannelsPerConnection)) {
      throw new SwitchboardError(
        ErrorCode.TOO_MANY_CHANNELS,
        `at most ${maxChannelsPerConnection} channels per connection`,
      );
    }
    channels.enter(subscription, channel, presence);
    let attachment: Awaited<ReturnType<Fanout['attach']>>;
    try {
      attachment = await this.deps.fanout.attach(stream, connection, subscription.id);
    } catch (error) {
      channels.release(subscription);
      throw error;
    }
    if (!channels.attached(subscription, attachment)) return;
    // Started after history and `$live`, not before: when `onStarted` fires the client already holds the
    // position `$live` carried, so a drop at any moment after it resumes without loss. (`started` first, as
    // tRPC's own procedures do, left a window where the client was started with no position: an event
    // published then was lost on resubscribe; the model-based resume test found it.) Corked with `$live`.
    this.respond(connection, { id: subscription.id, result: { type: 'started' } });
    // Awaited, so what this connection asks of the channel next (a presence query) sees the join.
    if (presence && channels.countIn(channel) === 1) {
      await this.deps.presence
        .join(connection, channel)
        .catch((err: unknown) => connection.log().warn({ err, channel }, 'presence join failed'));
    }
  }

  private respond(connection: LiveConnection, message: TRPCResponseMessage): void {
    connection.send(JSON.stringify(transformTRPCResponse(this.deps.router._def._config, message)));
  }

  private respondError(
    connection: LiveConnection,
    message: RequestMessage,
    cause: unknown,
    ctx?: SwitchboardContext,
  ): void {
    const error = toTRPCError(cause);
    if (error.code === 'INTERNAL_SERVER_ERROR') {
      connection.log().error({ err: error.cause ?? error, path: message.params.path }, 'procedure failed');
    }
    this.respond(connection, {
      id: message.id,
      error: getErrorShape({
        config: this.deps.router._def._config,
        error,
        type: message.method,
        path: message.params.path,
        input: undefined,
        ctx,
      }),
    });
  }
}

function contextOf(connection: LiveConnection, services: SwitchboardServices): SwitchboardContext {
  return { user: connection.user, connectionId: connection.id, switchboard: services };
}

/** The channel a request names (`input.channel`), which orders it after earlier requests for that channel. */
function channelOf(input: unknown): string | undefined {
  const channel = (input as { channel?: unknown } | null | undefined)?.channel;
  return typeof channel === 'string' ? channel : undefined;
}
