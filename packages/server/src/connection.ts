import { randomUUID } from 'node:crypto';
import { CloseCode, ErrorCode, SwitchboardError, transformer } from '@switchboard/protocol';
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
import { createTokenBucket } from './limits.ts';
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
  const { options, stats, logger } = deps;
  const config = deps.router._def._config;
  const rate = createTokenBucket(options.rateLimitPerSecond, options.rateLimitBurst);
  /** Active subscriptions by request id: stopping one releases whatever it holds. */
  const subscriptions = new Map<string | number, () => void>();
  let closed = false;

  const connection: Connection = {
    id: randomUUID(),
    socket,
    user,
    connectedAt: Date.now(),
    lastSeenAt: Date.now(),
    channels: new Map(),
    presenceMeta: new Map(),
    send(frame) {
      if (!writable()) return false;
      socket.send(frame);
      stats.messagesSent++;
      return true;
    },
    sendFrame(frame) {
      if (!writable()) return false;
      writeFrame(socket, frame);
      stats.messagesSent++;
      return true;
    },
    dispose: () => cleanup(CloseCode.GOING_AWAY, 'stale registry entry'),
  };
  /** Every frame to a client passes here, so the slow-consumer check lives in one place. */
  function writable(): boolean {
    if (socket.readyState !== socket.OPEN) return false;
    if (socket.bufferedAmount > options.slowConsumerBytes) {
      fail(connectionErrors.slowConsumer());
      return false;
    }
    return true;
  }

  // Created on first use: most connections never log, and a pino child costs memory per connection.
  let childLogger: Logger | undefined;
  const log = () =>
    (childLogger ??= logger.child({ connectionId: connection.id, userId: connection.user.userId }));

  function fail(error: SwitchboardError) {
    log().warn({ code: error.closeCode, reason: error.message }, 'policy violation: closing connection');
    closeWithError(socket, error);
  }

  function respond(message: TRPCResponseMessage) {
    connection.send(JSON.stringify(transformTRPCResponse(config, message)));
  }

  function respondError(message: RequestMessage, cause: unknown, ctx?: SwitchboardContext) {
    const error = getTRPCErrorFromUnknown(cause);
    if (error.code === 'INTERNAL_SERVER_ERROR')
      log().error({ err: error.cause ?? error, path: message.params.path }, 'procedure failed');
    respond({
      id: message.id,
      error: getErrorShape({
        config,
        error,
        type: message.method,
        path: message.params.path,
        input: undefined,
        ctx,
      }),
    });
  }

  function contextOf(): SwitchboardContext {
    return { user: connection.user, connectionId: connection.id, switchboard: deps.services };
  }

  function enterChannel(channel: string) {
    connection.channels.set(channel, (connection.channels.get(channel) ?? 0) + 1);
  }

  function leaveChannel(channel: string, withPresence: boolean) {
    const count = connection.channels.get(channel) ?? 0;
    if (count > 1) {
      connection.channels.set(channel, count - 1);
      return;
    }
    connection.channels.delete(channel);
    connection.presenceMeta.delete(channel);
    if (!withPresence) return;
    deps.presence
      .leave(connection.id, channel)
      .catch((err) => log().warn({ err, channel }, 'presence leave failed'));
  }

  /**
   * Attaches a `channel.subscribe` to the fan-out table. Its own function so that the stop closure it leaves
   * in `subscriptions` keeps only what it needs, not the request that created it.
   */
  async function attachChannel(id: string | number, stream: ChannelStream, signal: AbortSignal) {
    const { channel, presence } = stream;
    // Counted synchronously, before any await, so a batch of subscribes cannot overshoot the limit.
    if (!connection.channels.has(channel) && connection.channels.size >= options.maxChannelsPerConnection) {
      throw new SwitchboardError(
        ErrorCode.TOO_MANY_CHANNELS,
        `at most ${options.maxChannelsPerConnection} channels per connection`,
      );
    }
    enterChannel(channel);
    let detach: () => void;
    try {
      detach = await deps.fanout.attach(stream, connection, id);
    } catch (error) {
      leaveChannel(channel, presence);
      throw error;
    }
    if (signal.aborted || closed) {
      detach();
      leaveChannel(channel, presence);
      return;
    }
    // Started once attached: everything published after `onStarted` reaches this subscriber.
    respond({ id, result: { type: 'started' } });
    if (presence && connection.channels.get(channel) === 1) {
      deps.presence
        .join(connection, channel)
        .catch((err) => log().warn({ err, channel }, 'presence join failed'));
    }
    subscriptions.set(id, () => {
      detach();
      leaveChannel(channel, presence);
    });
  }

  async function handleRequest(message: RequestMessage) {
    const { id, method, params } = message;
    let input: unknown;
    try {
      input = params.input === undefined ? undefined : transformer.deserialize(params.input as never);
    } catch {
      fail(connectionErrors.malformed('input is not valid superjson'));
      return;
    }
    // tRPC's client sends the resume position beside the input; procedures see it in the input.
    if (params.lastEventId !== undefined) {
      input =
        typeof input === 'object' && input !== null
          ? { ...input, lastEventId: params.lastEventId }
          : { lastEventId: params.lastEventId };
    }

    if (method !== 'subscription') {
      const ctx = contextOf();
      try {
        const data = await callTRPCProcedure({
          router: deps.router,
          path: params.path,
          getRawInput: async () => input,
          ctx,
          type: method,
          signal: undefined,
          batchIndex: 0,
        });
        respond({ id, result: { type: 'data', data } });
      } catch (cause) {
        respondError(message, cause, ctx);
      }
      return;
    }

    if (subscriptions.has(id)) {
      respondError(
        message,
        new TRPCError({ code: 'BAD_REQUEST', message: `duplicate subscription id ${id}` }),
      );
      return;
    }
    if (subscriptions.size >= options.maxSubscriptionsPerConnection) {
      fail(connectionErrors.tooManySubscriptions());
      return;
    }
    // Reserve the id before the first await, so a stop (or a duplicate) that arrives meanwhile is seen.
    const abort = new AbortController();
    subscriptions.set(id, () => abort.abort());
    const ctx = contextOf();
    try {
      const result = await callTRPCProcedure({
        router: deps.router,
        path: params.path,
        getRawInput: async () => input,
        ctx,
        type: 'subscription',
        signal: abort.signal,
        batchIndex: 0,
      });
      if (abort.signal.aborted) return;
      if (isChannelStream(result)) {
        await attachChannel(id, result, abort.signal);
        return;
      }
      respond({ id, result: { type: 'started' } });
      pump(message, result, abort.signal, ctx);
    } catch (cause) {
      if (subscriptions.get(id) !== undefined && !abort.signal.aborted) subscriptions.delete(id);
      respondError(message, toTRPCError(cause), ctx);
    }
  }

  /** Serves a non-channel subscription (an async iterable or observable) the ordinary tRPC way. */
  function pump(message: RequestMessage, result: unknown, signal: AbortSignal, ctx: SwitchboardContext) {
    const iterable = isObservable(result)
      ? observableToAsyncIterable(result, signal)
      : (result as AsyncIterable<unknown>);
    if (typeof iterable?.[Symbol.asyncIterator] !== 'function') {
      respondError(
        message,
        new TRPCError({
          code: 'INTERNAL_SERVER_ERROR',
          message: 'subscription did not return an async iterable',
        }),
        ctx,
      );
      subscriptions.delete(message.id);
      return;
    }
    const iterator = iterable[Symbol.asyncIterator]();
    signal.addEventListener('abort', () => void iterator.return?.(), { once: true });
    (async () => {
      try {
        while (!signal.aborted) {
          const next = await iterator.next();
          if (next.done || signal.aborted) break;
          respond({ id: message.id, result: { type: 'data', data: next.value } });
        }
        if (!signal.aborted) respond({ id: message.id, result: { type: 'stopped' } });
      } catch (cause) {
        if (!signal.aborted) respondError(message, cause, ctx);
      } finally {
        subscriptions.delete(message.id);
      }
    })();
  }

  function handleFrame(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) {
    connection.lastSeenAt = Date.now();
    stats.messagesReceived++;
    if (!rate.take(connection.lastSeenAt)) return fail(connectionErrors.rateLimited());
    if (isBinary) return fail(connectionErrors.binary());
    const text = Array.isArray(data)
      ? Buffer.concat(data).toString('utf8')
      : Buffer.from(data as ArrayBuffer).toString('utf8');
    if (text === 'PING') return void connection.send('PONG');
    if (text === 'PONG') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return fail(connectionErrors.malformed('malformed JSON frame'));
    }
    const batch = Array.isArray(parsed) ? parsed : [parsed];
    if (batch.length === 0 || batch.length > MAX_BATCH_SIZE) return fail(connectionErrors.schema());
    const messages = [];
    for (const item of batch) {
      const result = inboundMessageSchema.safeParse(item);
      if (!result.success) return fail(connectionErrors.schema());
      messages.push(result.data);
    }
    for (const message of messages) {
      if (message.method === 'connectionParams') continue;
      if (message.method === 'subscription.stop') {
        const stop = subscriptions.get(message.id);
        subscriptions.delete(message.id);
        stop?.();
        continue;
      }
      void handleRequest(message);
    }
  }

  function cleanup(code: number, reason: string) {
    if (closed) return;
    closed = true;
    for (const stop of subscriptions.values()) stop();
    subscriptions.clear();
    deps.onClosed(connection, code, reason);
  }

  socket.on('message', handleFrame);
  socket.on('pong', () => {
    connection.lastSeenAt = Date.now();
  });
  socket.on('close', (code, reason) => cleanup(code, reason.toString()));
  // Without an error listener an emitted socket error crashes the process (oversize frames, bad UTF-8...).
  socket.on('error', (err) => {
    const code = (err as { code?: string }).code;
    if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH')
      log().warn({ code: CloseCode.MESSAGE_TOO_BIG }, 'policy violation: message too big');
    else log().warn({ err }, 'socket error');
  });
  return connection;
}
