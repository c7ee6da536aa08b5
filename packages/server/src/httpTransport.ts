import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, SwitchboardError, UpgradeStatus } from '@switchboard/protocol';
import { type AnyTRPCRouter, callTRPCProcedure, getErrorShape, TRPCError } from '@trpc/server';
import { nodeHTTPRequestHandler } from '@trpc/server/adapters/node-http';
import { getHTTPStatusCodeFromError, parseConnectionParamsFromString } from '@trpc/server/http';
import type { Logger } from 'pino';
import { pumpAppSubscription } from './appSubscription.ts';
import type { AuthUser } from './auth.ts';
import { toTRPCError } from './errors.ts';
import { type Fanout, isChannelStream } from './fanout.ts';
import { authenticateRequest, type RequestAuthDeps } from './httpAuth.ts';
import type { HttpRoute } from './httpHandler.ts';
import { sendJson } from './jsonResponse.ts';
import { createTokenBucket, type TokenBucket } from './limits.ts';
import type { ServerStats } from './metrics.ts';
import type { ResolvedServerOptions } from './options.ts';
import { answerCors, isOriginAllowed } from './origin.ts';
import type { Presence } from './presence.ts';
import type { ConnectionCounts } from './registry.ts';
import { decodeComponent, parseRequestTarget } from './requestDecoding.ts';
import type { SwitchboardContext, SwitchboardServices } from './router.ts';
import { SseControlEvent, sseControlChunk } from './sseFrames.ts';
import type { SseStream, SseStreams } from './sseStreams.ts';

export interface HttpTransportDeps extends RequestAuthDeps {
  router: AnyTRPCRouter;
  options: ResolvedServerOptions;
  fanout: Fanout;
  presence: Presence;
  /** Connections of both transports, counted against `maxConnections` and `maxConnectionsPerUser`. */
  connections: ConnectionCounts;
  sseStreams: SseStreams;
  services: SwitchboardServices;
  stats: ServerStats;
  logger: Logger;
  isAccepting(): boolean;
}

/** Idle per-user rate buckets are forgotten after this long (a full bucket is the same as no bucket). */
const BUCKET_IDLE_MS = 60_000;

/**
 * The same router over HTTP at `httpPath`, for clients whose WebSockets are blocked. Queries and mutations go
 * to tRPC's own node-http handler (so `httpLink`/`httpBatchLink` work unchanged); subscriptions are served as
 * Server-Sent Events in tRPC's SSE format (so `httpSubscriptionLink` works unchanged), and `channel.subscribe`
 * streams join the fan-out table, which encodes each event's SSE chunk once for all of them.
 *
 * Before any procedure runs, the same rules as the upgrade: origin allow-list (403), draining (503),
 * credentials (401), and for streams the connection limits (429 per user, 503 per server); calls are counted
 * against a per-user token bucket (`rateLimitPerSecond`, `rateLimitBurst`; each call of a batch counts).
 * A refusal of a stream is a plain HTTP status before any byte of the stream; a refused call is answered in
 * tRPC's error format with the matching status, so `@trpc/client` reports its code.
 */
export function createHttpTransport(deps: HttpTransportDeps): HttpRoute {
  const { options, router, logger } = deps;
  const config = router._def._config;
  const prefix = `${options.httpPath.replace(/\/+$/, '')}/`;
  const buckets = new Map<string, { bucket: TokenBucket; usedAt: number }>();
  let nextBucketSweepAt = 0;

  /** Takes `cost` tokens from the user's bucket; false when the user is over the rate. */
  function admit(userId: string, cost: number): boolean {
    const now = Date.now();
    if (now >= nextBucketSweepAt) {
      nextBucketSweepAt = now + BUCKET_IDLE_MS;
      for (const [id, entry] of buckets) if (now - entry.usedAt > BUCKET_IDLE_MS) buckets.delete(id);
    }
    let entry = buckets.get(userId);
    if (!entry) {
      entry = { bucket: createTokenBucket(options.rateLimitPerSecond, options.rateLimitBurst), usedAt: now };
      buckets.set(userId, entry);
    }
    entry.usedAt = now;
    // One token per unit of cost, all or none: a refused request spends nothing the next one could use.
    if (!entry.bucket.has(cost, now)) return false;
    for (let i = 0; i < cost; i++) entry.bucket.take(now);
    return true;
  }

  /** The user, or the refusal as a TRPCError (its code carries the HTTP status). */
  async function admitRequest(
    req: IncomingMessage,
    connectionParams: Record<string, string> | null,
    cost: number,
  ): Promise<AuthUser | TRPCError> {
    if (!deps.isAccepting()) {
      return new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: 'server is shutting down' });
    }
    let user: AuthUser | null = null;
    try {
      user = await authenticateRequest(req, deps, connectionParams);
    } catch (error) {
      if (error instanceof SwitchboardError && error.code === ErrorCode.BAD_REQUEST) throw error;
      logger.info({ reason: (error as Error).message }, 'authentication failed');
    }
    if (!user) return new TRPCError({ code: 'UNAUTHORIZED', message: 'missing or invalid credentials' });
    if (!admit(user.userId, cost)) {
      return new TRPCError({
        code: 'TOO_MANY_REQUESTS',
        message: `over ${options.rateLimitPerSecond} messages per second: retry later`,
      });
    }
    return user;
  }

  function contextOf(user: AuthUser, connectionId: string): SwitchboardContext {
    return { user, connectionId, switchboard: deps.services };
  }

  /** A refusal before a stream starts: a plain status and `{ error }`, as the upgrade answers. */
  const refuse = (res: ServerResponse, status: number, error: string) => sendJson(res, status, { error });

  /** tRPC's `serialized-error` event, which `httpSubscriptionLink` turns into a TRPCClientError. */
  function errorChunk(cause: unknown, path: string, ctx: SwitchboardContext): string {
    const error = toTRPCError(cause);
    if (error.code === 'INTERNAL_SERVER_ERROR')
      logger.error({ err: error.cause ?? error, path }, 'subscription failed');
    const shape = getErrorShape({ config, error, type: 'subscription', path, input: undefined, ctx });
    return sseControlChunk(
      SseControlEvent.SERIALIZED_ERROR,
      JSON.stringify(config.transformer.output.serialize(shape)),
    );
  }

  async function serveSubscription(req: IncomingMessage, res: ServerResponse, path: string, url: URL) {
    const connectionParams = readConnectionParams(url);
    const admitted = await admitRequest(req, connectionParams, 1);
    if (admitted instanceof TRPCError) {
      return refuse(res, getHTTPStatusCodeFromError(admitted), admitted.message);
    }
    const user = admitted;
    if (deps.connections.total() >= options.maxConnections) {
      return refuse(res, UpgradeStatus.AT_CAPACITY, 'server at capacity');
    }
    if (deps.connections.ofUser(user.userId) >= options.maxConnectionsPerUser) {
      const limit = options.maxConnectionsPerUser;
      return refuse(
        res,
        UpgradeStatus.TOO_MANY_CONNECTIONS,
        `too many connections for this user (limit ${limit})`,
      );
    }
    const input = readSubscriptionInput(req, url, config.transformer.input.deserialize);
    const stream = deps.sseStreams.open(res, user);
    const ctx = contextOf(user, stream.id);
    const abort = new AbortController();
    stream.onEnd(() => abort.abort());
    let result: unknown;
    try {
      result = await callTRPCProcedure({
        router,
        path,
        getRawInput: async () => input,
        ctx,
        type: 'subscription',
        signal: abort.signal,
        batchIndex: 0,
      });
    } catch (cause) {
      stream.write(errorChunk(cause, path, ctx));
      return stream.end();
    }
    if (abort.signal.aborted) return;
    if (isChannelStream(result)) return attachChannel(stream, result, path, ctx);
    let lastId: string | undefined;
    const pumping = pumpAppSubscription(result, abort.signal, {
      result(item) {
        if (item.type === 'stopped') {
          stream.write(sseControlChunk(SseControlEvent.RETURN));
          return stream.end();
        }
        if (item.type !== 'data') return;
        // As tRPC's SSE producer: a tracked item's data is sent without its id (the `id:` field carries it);
        // an untracked item after a tracked one clears the id, then restores it for the next reconnect.
        const tracked = item.id !== undefined;
        const data = tracked ? (item.data as { data: unknown }).data : item.data;
        const json = JSON.stringify(config.transformer.output.serialize(data));
        if (tracked) {
          lastId = String(item.id);
          stream.write(`id: ${lastId}\ndata: ${json}\n\n`);
        } else if (lastId === undefined) stream.write(`data: ${json}\n\n`);
        else
          stream.write(
            `id: \ndata: ${json}\n\nevent: ${SseControlEvent.RESTORE_ID}\ndata: \nid: ${lastId}\n\n`,
          );
      },
      error(cause) {
        stream.write(errorChunk(cause, path, ctx));
        stream.end();
      },
      done() {},
    });
    if (!pumping) {
      stream.write(
        errorChunk(new Error('subscription did not return an async iterable or observable'), path, ctx),
      );
      stream.end();
    }
  }

  /** A `channel.subscribe` stream: attached to the fan-out table, with presence join and leave. */
  async function attachChannel(
    stream: SseStream,
    channelStream: import('./fanout.ts').ChannelStream,
    path: string,
    ctx: SwitchboardContext,
  ) {
    const { channel, presence } = channelStream;
    let detach: () => void;
    try {
      detach = await deps.fanout.attachSse(channelStream, stream);
    } catch (cause) {
      stream.write(errorChunk(cause, path, ctx));
      return stream.end();
    }
    let joined = false;
    stream.onEnd(() => {
      detach();
      if (!joined) return;
      deps.presence
        .leave(stream.id, channel)
        .catch((err: unknown) => logger.warn({ err, channel }, 'presence leave failed'));
    });
    if (presence) {
      joined = true;
      await deps.presence
        .join(stream, channel)
        .catch((err: unknown) => logger.warn({ err, channel }, 'presence join failed'));
    }
  }

  async function serveCalls(req: IncomingMessage, res: ServerResponse, path: string, url: URL) {
    const batchSize = url.searchParams.get('batch') === '1' ? path.split(',').length : 1;
    // Authenticated once per request; the rate is counted per call (`admitCall`), so the calls of a batch
    // that fit are served and only the rest are answered TOO_MANY_REQUESTS, as the messages of a frame.
    const admitted = await admitRequest(req, readConnectionParams(url), 0);
    const refusal = admitted instanceof TRPCError ? admitted : undefined;
    const user = admitted as AuthUser;
    const ctx = refusal
      ? undefined
      : { ...contextOf(user, `http:${randomUUID()}`), admitCall: () => admit(user.userId, 1) };
    await nodeHTTPRequestHandler({
      router,
      req,
      res,
      path,
      maxBodySize: batchSize > 1 ? options.maxFrameBytes : options.maxPayloadBytes,
      maxBatchSize: options.rateLimitBurst,
      // A refusal answers every call of the request with its error (and status), in tRPC's format.
      middleware: refusal ? (_req, _res, next) => next(refusal) : undefined,
      createContext: () => ctx as SwitchboardContext,
      onError({ error, path: failedPath }) {
        if (error.code === 'INTERNAL_SERVER_ERROR') {
          logger.error({ err: error.cause ?? error, path: failedPath }, 'procedure failed');
        }
      },
    });
  }

  return {
    matches: (pathname) => pathname.startsWith(prefix),
    async handle(req, res) {
      const url = parseRequestTarget(req.url);
      if (!isOriginAllowed(req, options.allowedOrigins))
        return refuse(res, UpgradeStatus.FORBIDDEN, 'origin not allowed');
      if (
        answerCors(req, res, {
          methods: 'GET, POST, OPTIONS',
          headers: 'authorization, content-type, trpc-accept, trpc-batch-mode, last-event-id, x-trpc-source',
        })
      )
        return;
      // Still percent-encoded: tRPC's handler decodes the path itself (guarded).
      const rawPath = url.pathname.slice(prefix.length);
      const path = decodeComponent(rawPath, 'procedure path');
      const procedure = router._def.procedures[path] as { _def?: { type?: string } } | undefined;
      if (req.method === 'GET' && procedure?._def?.type === 'subscription') {
        return serveSubscription(req, res, path, url);
      }
      return serveCalls(req, res, rawPath, url);
    },
  };
}

/** tRPC's `connectionParams` query parameter (JSON of string values); malformed → BAD_REQUEST (400). */
function readConnectionParams(url: URL): Record<string, string> | null {
  const text = url.searchParams.get('connectionParams');
  if (text === null) return null;
  try {
    return parseConnectionParamsFromString(text) as Record<string, string> | null;
  } catch {
    throw new SwitchboardError(ErrorCode.BAD_REQUEST, 'malformed connectionParams');
  }
}

/**
 * A subscription's input (`?input=`, transformer-encoded JSON) with the resume position beside it, as tRPC
 * resolves it: the EventSource's own `Last-Event-ID` header (its automatic reconnect) before `?lastEventId=`.
 * Malformed input → BAD_REQUEST (400), before any byte of the stream.
 */
function readSubscriptionInput(
  req: IncomingMessage,
  url: URL,
  deserialize: (value: unknown) => unknown,
): unknown {
  const text = url.searchParams.get('input');
  let input: unknown;
  try {
    input = text === null ? undefined : deserialize(JSON.parse(text));
  } catch {
    throw new SwitchboardError(ErrorCode.BAD_REQUEST, 'malformed input');
  }
  const header = req.headers['last-event-id'];
  const lastEventId =
    (typeof header === 'string' && header !== '' ? header : undefined) ??
    url.searchParams.get('lastEventId') ??
    url.searchParams.get('Last-Event-Id') ??
    undefined;
  if (lastEventId === undefined) return input;
  return typeof input === 'object' && input !== null ? { ...input, lastEventId } : { lastEventId };
}
