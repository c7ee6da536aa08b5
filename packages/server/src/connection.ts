import { randomUUID } from 'node:crypto';
import {
  CloseCode,
  ErrorCode,
  type PresenceMeta,
  SwitchboardError,
  transformer,
} from '@switchboard/protocol';
import {
  type AnyTRPCRouter,
  callTRPCProcedure,
  getErrorShape,
  getTRPCErrorFromUnknown,
  TRPCError,
  transformTRPCResponse,
} from '@trpc/server';
import { isObservable, observableToAsyncIterable } from '@trpc/server/observable';
import type { TRPCResponseMessage } from '@trpc/server/rpc';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { AuthUser } from './auth.ts';
import { closeWithError, connectionErrors, toTRPCError } from './errors.ts';
import { type ChannelStream, type Fanout, isChannelStream } from './fanout.ts';
import { writeFrame } from './frameWriter.ts';
import { createTokenBucket, type TokenBucket } from './limits.ts';
import type { ServerStats } from './metrics.ts';
import type { ResolvedServerOptions } from './options.ts';
import type { Presence } from './presence.ts';
import type { Connection, Registry } from './registry.ts';
import type { SwitchboardContext, SwitchboardServices } from './router.ts';
import { inboundMessageSchema, MAX_BATCH_SIZE, type RequestMessage } from './wireMessages.ts';

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
  private readonly rate: TokenBucket;
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
      this.handleFrame(data, isBinary),
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
    const error = getTRPCErrorFromUnknown(cause);
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
    this.deps.presence
      .leave(this.id, channel)
      .catch((err: unknown) => this.log().warn({ err, channel }, 'presence leave failed'));
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
    // Counted synchronously, before any await, so a batch of subscribes cannot overshoot the limit.
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
    // Started once attached: everything published after `onStarted` reaches this subscriber.
    this.respond({ id, result: { type: 'started' } });
    if (presence && this.channels.get(channel) === 1) {
      this.deps.presence
        .join(this, channel)
        .catch((err: unknown) => this.log().warn({ err, channel }, 'presence join failed'));
    }
    this.subscriptions.set(id, () => {
      detach();
      this.leaveChannel(channel, presence);
    });
  }

  private async handleRequest(message: RequestMessage): Promise<void> {
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
    const { router, options } = this.deps;

    if (method !== 'subscription') {
      const ctx = this.contextOf();
      try {
        const data = await callTRPCProcedure({
          router,
          path: params.path,
          getRawInput: async () => input,
          ctx,
          type: method,
          signal: undefined,
          batchIndex: 0,
        });
        this.respond({ id, result: { type: 'data', data } });
      } catch (cause) {
        this.respondError(message, cause, ctx);
      }
      return;
    }

    if (this.subscriptions.has(id)) {
      this.respondError(
        message,
        new TRPCError({ code: 'BAD_REQUEST', message: `duplicate subscription id ${id}` }),
      );
      return;
    }
    if (this.subscriptions.size >= options.maxSubscriptionsPerConnection) {
      this.fail(connectionErrors.tooManySubscriptions());
      return;
    }
    // Reserve the id before the first await, so a stop (or a duplicate) that arrives meanwhile is seen.
    const abort = new AbortController();
    this.subscriptions.set(id, () => abort.abort());
    const ctx = this.contextOf();
    try {
      const result = await callTRPCProcedure({
        router,
        path: params.path,
        getRawInput: async () => input,
        ctx,
        type: 'subscription',
        signal: abort.signal,
        batchIndex: 0,
      });
      if (abort.signal.aborted) return;
      if (isChannelStream(result)) {
        await this.attachChannel(id, result, abort.signal);
        return;
      }
      this.respond({ id, result: { type: 'started' } });
      this.pump(message, result, abort.signal, ctx);
    } catch (cause) {
      if (this.subscriptions.get(id) !== undefined && !abort.signal.aborted) this.subscriptions.delete(id);
      this.respondError(message, toTRPCError(cause), ctx);
    }
  }

  /** Serves a non-channel subscription (an async iterable or observable) the ordinary tRPC way. */
  private pump(message: RequestMessage, result: unknown, signal: AbortSignal, ctx: SwitchboardContext): void {
    const iterable = isObservable(result)
      ? observableToAsyncIterable(result, signal)
      : (result as AsyncIterable<unknown>);
    if (typeof iterable?.[Symbol.asyncIterator] !== 'function') {
      this.respondError(
        message,
        new TRPCError({
          code: 'INTERNAL_SERVER_ERROR',
          message: 'subscription did not return an async iterable',
        }),
        ctx,
      );
      this.subscriptions.delete(message.id);
      return;
    }
    const iterator = iterable[Symbol.asyncIterator]();
    signal.addEventListener('abort', () => void iterator.return?.(), { once: true });
    (async () => {
      try {
        while (!signal.aborted) {
          const next = await iterator.next();
          if (next.done || signal.aborted) break;
          this.respond({ id: message.id, result: { type: 'data', data: next.value } });
        }
        if (!signal.aborted) this.respond({ id: message.id, result: { type: 'stopped' } });
      } catch (cause) {
        if (!signal.aborted) this.respondError(message, cause, ctx);
      } finally {
        this.subscriptions.delete(message.id);
      }
    })();
  }

  private handleFrame(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) {
    this.lastSeenAt = Date.now();
    this.deps.stats.messagesReceived++;
    if (!this.rate.take(this.lastSeenAt)) return this.fail(connectionErrors.rateLimited());
    if (isBinary) return this.fail(connectionErrors.binary());
    const text = Array.isArray(data)
      ? Buffer.concat(data).toString('utf8')
      : Buffer.from(data as ArrayBuffer).toString('utf8');
    if (text === 'PING') return void this.send('PONG');
    if (text === 'PONG') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return this.fail(connectionErrors.malformed('malformed JSON frame'));
    }
    const batch = Array.isArray(parsed) ? parsed : [parsed];
    if (batch.length === 0 || batch.length > MAX_BATCH_SIZE) return this.fail(connectionErrors.schema());
    const messages = [];
    for (const item of batch) {
      const result = inboundMessageSchema.safeParse(item);
      if (!result.success) return this.fail(connectionErrors.schema());
      messages.push(result.data);
    }
    for (const message of messages) {
      if (message.method === 'connectionParams') continue;
      if (message.method === 'subscription.stop') {
        const stop = this.subscriptions.get(message.id);
        this.subscriptions.delete(message.id);
        stop?.();
        continue;
      }
      void this.handleRequest(message);
    }
  }

  private cleanup(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const stop of this.subscriptions.values()) stop();
    this.subscriptions.clear();
    this.deps.onClosed(this, code, reason);
  }
}
