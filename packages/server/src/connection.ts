import { randomUUID } from 'node:crypto';
import {
  CloseCode,
  ErrorCode,
  KeyedQueue,
  type PresenceMeta,
  SwitchboardError,
  transformer,
} from '@switchboard/protocol';
import { type AnyTRPCRouter, callTRPCProcedure, getErrorShape, transformTRPCResponse } from '@trpc/server';
import type { TRPCResponseMessage } from '@trpc/server/rpc';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { pumpAppSubscription } from './appSubscription.ts';
import type { AuthUser } from './auth.ts';
import { closeWithError, connectionErrors, toTRPCError } from './errors.ts';
import { type ChannelStream, type Fanout, isChannelStream } from './fanout.ts';
import { writeFrame } from './frameWriter.ts';
import { readInboundFrame } from './inboundFrame.ts';
import { createTokenBucket, type TokenBucket } from './limits.ts';
import type { ServerStats } from './metrics.ts';
import type { ResolvedServerOptions } from './options.ts';
import type { Presence } from './presence.ts';
import type { Connection, Registry } from './registry.ts';
import type { SwitchboardContext, SwitchboardServices } from './router.ts';
import type { RequestMessage } from './wireMessages.ts';

export interface ConnectionDeps {
  router: AnyTRPCRouter;
  fanout: Fanout;
  presence: Presence;
  registry: Registry;
  stats: ServerStats;
  logger: Logger;
  options: ResolvedServerOptions;
  services: SwitchboardServices;
  onClosed(connection: Connection, code: number, reason: string): void;
}

/**
 * Serves one authenticated WebSocket: speaks tRPC's wire protocol (so `@trpc/client`'s wsLink works
 * unchanged), enforces the per-connection limits, and routes `channel.subscribe` to the fan-out table.
 */
export function handleConnection(socket: WebSocket, user: AuthUser, deps: ConnectionDeps): Connection {
  return new LiveConnection(socket, user, deps);
}

/**
 * One connection's state and behaviour. A class rather than closures: its methods live once on the
 * prototype, so 10,000 idle connections do not carry 10,000 copies of every function.
 */
class LiveConnection implements Connection {
  readonly id = randomUUID();
  readonly connectedAt = Date.now();
  lastSeenAt = this.connectedAt;
  readonly channels = new Map<string, number>();
  readonly presenceMeta = new Map<string, PresenceMeta>();
  /** Active subscriptions by request id: stopping one releases whatever it holds. */
  private readonly subscriptions = new Map<string | number, () => void>();
  /** Ids of queries and mutations being served (created on first use). */
  private calls: Set<string | number> | undefined;
  private readonly rate: TokenBucket;
  private refusedInARow = 0;
  /** Requests naming the same channel run in arrival order (see `keyedQueue.ts`). */
  private readonly order = new KeyedQueue();
  private closed = false;
  // Created on first use: most connections never log, and a pino child costs memory per connection.
  private childLogger: Logger | undefined;

  constructor(
    readonly socket: WebSocket,
    public user: AuthUser,
    private readonly deps: ConnectionDeps,
  ) {
    this.rate = createTokenBucket(deps.options.rateLimitPerSecond, deps.options.rateLimitBurst);
    socket.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) =>
      this.onMessage(data, isBinary),
    );
    socket.on('pong', () => {
      this.lastSeenAt = Date.now();
    });
    socket.on('close', (code: number, reason: Buffer) => this.cleanup(code, reason.toString()));
    // Without an error listener an emitted socket error crashes the process (oversize frames, bad UTF-8...).
    socket.on('error', (err: Error) => {
      const code = (err as { code?: string }).code;
      if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        this.log().warn({ code: CloseCode.MESSAGE_TOO_BIG }, 'policy violation: message too big');
      } else this.log().warn({ err }, 'socket error');
    });
  }

  send(frame: string): boolean {
    if (!this.writable()) return false;
    this.socket.send(frame);
    this.deps.stats.messagesSent++;
    return true;
  }

  sendFrame(frame: Buffer): boolean {
    if (!this.writable()) return false;
    writeFrame(this.socket, frame);
    this.deps.stats.messagesSent++;
    return true;
  }

  dispose(): void {
    this.cleanup(CloseCode.GOING_AWAY, 'stale registry entry');
  }

  /** Every frame to a client passes here, so the slow-consumer check lives in one place. */
  private writable(): boolean {
    const { socket } = this;
    if (socket.readyState !== socket.OPEN) return false;
    if (socket.bufferedAmount > this.deps.options.slowConsumerBytes) {
      this.fail(connectionErrors.slowConsumer());
      return false;
    }
    return true;
  }

  private log(): Logger {
    this.childLogger ??= this.deps.logger.child({ connectionId: this.id, userId: this.user.userId });
    return this.childLogger;
  }

  private fail(error: SwitchboardError): void {
    this.log().warn({ code: error.closeCode, reason: error.message }, 'policy violation: closing connection');
    closeWithError(this.socket, error);
  }

  private respond(message: TRPCResponseMessage): void {
    this.send(JSON.stringify(transformTRPCResponse(this.deps.router._def._config, message)));
  }

  private respondError(message: RequestMessage, cause: unknown, ctx?: SwitchboardContext): void {
    const error = toTRPCError(cause);
    if (error.code === 'INTERNAL_SERVER_ERROR') {
      this.log().error({ err: error.cause ?? error, path: message.params.path }, 'procedure failed');
    }
    this.respond({
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

  private contextOf(): SwitchboardContext {
    return { user: this.user, connectionId: this.id, switchboard: this.deps.services };
  }

  private enterChannel(channel: string): void {
    this.channels.set(channel, (this.channels.get(channel) ?? 0) + 1);
  }

  private leaveChannel(channel: string, withPresence: boolean): void {
    const count = this.channels.get(channel) ?? 0;
    if (count > 1) {
      this.channels.set(channel, count - 1);
      return;
    }
    this.channels.delete(channel);
    this.presenceMeta.delete(channel);
    if (!withPresence) return;
    // In the channel's order, so a resubscribe that follows in the same frame joins after this leave.
    void this.order.run(channel, () =>
      this.deps.presence
        .leave(this.id, channel)
        .catch((err: unknown) => this.log().warn({ err, channel }, 'presence leave failed')),
    );
  }

  /**
   * Attaches a `channel.subscribe` to the fan-out table. Its own method so that the stop closure it leaves
   * in `subscriptions` keeps only what it needs, not the request that created it.
   */
  private async attachChannel(
    id: string | number,
    stream: ChannelStream,
    signal: AbortSignal,
  ): Promise<void> {
    const { channel, presence } = stream;
    const { options } = this.deps;
    if (!this.channels.has(channel) && this.channels.size >= options.maxChannelsPerConnection) {
      throw new SwitchboardError(
        ErrorCode.TOO_MANY_CHANNELS,
        `at most ${options.maxChannelsPerConnection} channels per connection`,
      );
    }
    this.enterChannel(channel);
    let detach: () => void;
    try {
      detach = await this.deps.fanout.attach(stream, this, id);
    } catch (error) {
      this.leaveChannel(channel, presence);
      throw error;
    }
    if (signal.aborted || this.closed) {
      detach();
      this.leaveChannel(channel, presence);
      return;
    }
    this.subscriptions.set(id, () => {
      detach();
      this.leaveChannel(channel, presence);
    });
    // Started once attached: everything published after `onStarted` reaches this subscriber.
    this.respond({ id, result: { type: 'started' } });
    // Awaited, so what this connection asks of the channel next (a presence query) sees the join.
    if (presence && this.channels.get(channel) === 1) {
      await this.deps.presence
        .join(this, channel)
        .catch((err: unknown) => this.log().warn({ err, channel }, 'presence join failed'));
    }
  }

  /** Dispatches one request. Called synchronously for each message of a frame, in order. */
  private dispatch(message: RequestMessage): void {
    const { id, method, params } = message;
    let input: unknown;
    try {
      input = params.input === undefined ? undefined : transformer.deserialize(params.input as never);
    } catch {
      this.fail(connectionErrors.malformed('input is not valid superjson'));
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
    if (this.subscriptions.has(id) || this.calls?.has(id)) {
      this.log().debug({ id, path: params.path }, 'request id already in flight: ignored');
      return;
    }
    let signal: AbortSignal | undefined;
    if (method === 'subscription') {
      if (this.subscriptions.size >= this.deps.options.maxSubscriptionsPerConnection) {
        this.fail(connectionErrors.tooManySubscriptions());
        return;
      }
      // Reserved now, not when the request's turn comes, so a stop (or a duplicate) in the same frame is seen.
      const abort = new AbortController();
      this.subscriptions.set(id, () => abort.abort());
      signal = abort.signal;
    }
    if (!signal) (this.calls ??= new Set()).add(id);
    const run = () => this.handleRequest(message, input, signal);
    const channel = channelOf(input);
    if (channel === undefined) void run();
    else void this.order.run(channel, run);
  }

  private async handleRequest(message: RequestMessage, input: unknown, signal?: AbortSignal): Promise<void> {
    const { id, method, params } = message;
    const ctx = this.contextOf();
    if (signal?.aborted || this.closed) return;
    try {
      const result = await callTRPCProcedure({
        router: this.deps.router,
        path: params.path,
        getRawInput: async () => input,
        ctx,
        type: method,
        signal,
        batchIndex: 0,
      });
      if (!signal) {
        this.calls?.delete(id);
        this.respond({ id, result: { type: 'data', data: result } });
        return;
      }
      if (signal.aborted) return;
      if (isChannelStream(result)) {
        await this.attachChannel(id, result, signal);
        return;
      }
      const pumping = pumpAppSubscription(result, signal, {
        result: (item) => this.respond({ id, result: item }),
        error: (cause) => this.respondError(message, cause, ctx),
        done: () => {
          if (!signal.aborted) this.subscriptions.delete(id);
        },
      });
      if (!pumping) throw new Error('subscription did not return an async iterable or observable');
      this.respond({ id, result: { type: 'started' } });
    } catch (cause) {
      if (signal && !signal.aborted) this.subscriptions.delete(id);
      if (!signal) this.calls?.delete(id);
      this.respondError(message, cause, ctx);
    }
  }

  /**
   * The socket's message listener, and the connection's boundary: whatever a frame makes go wrong closes this
   * connection (1011) and is logged; it never reaches `ws`, which would emit it where nothing catches it and
   * end the process.
   */
  private onMessage(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) {
    try {
      this.handleFrame(data, isBinary);
    } catch (err) {
      this.log().error({ err }, 'frame handling failed: closing connection');
      this.fail(connectionErrors.internal());
    }
  }

  private handleFrame(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) {
    this.lastSeenAt = Date.now();
    this.deps.stats.messagesReceived++;
    const { options } = this.deps;
    const frame = readInboundFrame(data, isBinary, {
      maxPayloadBytes: options.maxPayloadBytes,
      maxBatchSize: options.rateLimitBurst,
    });
    if (frame.kind === 'refused') return this.fail(frame.error);
    if (frame.kind === 'pong') return;
    if (frame.kind === 'ping') {
      this.admit(false);
      return void this.send('PONG');
    }
    for (const message of frame.messages) {
      if (this.closed) return;
      if (message.method === 'connectionParams') continue;
      if (message.method === 'subscription.stop') {
        // Stops release what a client holds: counted, never refused.
        this.admit(false);
        const stop = this.subscriptions.get(message.id);
        this.subscriptions.delete(message.id);
        stop?.();
        continue;
      }
      if (!this.admit(true)) {
        this.respondError(
          message,
          new SwitchboardError(
            ErrorCode.RATE_LIMITED,
            `over ${options.rateLimitPerSecond} messages per second: retry later`,
          ),
        );
        continue;
      }
      this.dispatch(message);
    }
  }

  /**
   * Counts one inbound message against the rate limit (messages, not frames: a batch of 50 takes 50).
   * Returns whether a refusable message may proceed. A client that keeps sending while refused (more refusals
   * in a row than the burst) is flooding, not retrying, and is closed with 1008.
   */
  private admit(refusable: boolean): boolean {
    if (this.rate.take(this.lastSeenAt)) {
      this.refusedInARow = 0;
      return true;
    }
    if (++this.refusedInARow > this.deps.options.rateLimitBurst) {
      this.fail(connectionErrors.rateLimited());
      return false;
    }
    return !refusable;
  }

  private cleanup(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const stop of this.subscriptions.values()) stop();
    this.subscriptions.clear();
    this.deps.onClosed(this, code, reason);
  }
}

/** The channel a request names (`input.channel`), which orders it after earlier requests for that channel. */
function channelOf(input: unknown): string | undefined {
  const channel = (input as { channel?: unknown } | null | undefined)?.channel;
  return typeof channel === 'string' ? channel : undefined;
}
