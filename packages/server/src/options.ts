import type { IncomingMessage } from 'node:http';
import type { ChannelDefinition } from '@switchboard/protocol';
import type { AnyTRPCRouter } from '@trpc/server';
import type { Logger } from 'pino';
import type { AuthUser } from './auth.ts';
import type { Broker } from './broker/broker.ts';
import type { HttpRequestHandler } from './httpHandler.ts';

/** Decides whether a user may use a channel; runs after the channel family's own `access` rule. */
export type ChannelAuthorizer = (
  user: AuthUser,
  channel: string,
  eventType?: string,
) => boolean | Promise<boolean>;

/**
 * Shortest accepted `jwt.secret`, in bytes: RFC 7518 §3.2 requires an HS256 key of at least the hash's 256 bits;
 * a shorter secret can be brute-forced offline from any one token, which then lets anyone sign as anyone.
 */
export const MIN_JWT_SECRET_BYTES = 32;

export interface JwtOptions {
  /**
   * HMAC secret for HS256 tokens, at least `MIN_JWT_SECRET_BYTES` (32) bytes (a string counts its UTF-8 bytes).
   * One of `secret` or `publicKey` is required unless `authenticate` is set.
   */
  secret?: string | Uint8Array;
  /** PEM SPKI public key for asymmetric tokens (RS256/ES256/EdDSA): pins verification to that family. */
  publicKey?: string;
  /** Accepted algorithms; pinned so `none` and HS/RS confusion are impossible. @default ['HS256'] with a secret, ['RS256','ES256','EdDSA'] with a public key */
  algorithms?: string[];
  /** Required `iss` claim, checked when set. */
  issuer?: string;
  /** Required `aud` claim, checked when set. */
  audience?: string;
  /** Allowed clock difference for `exp`/`nbf`, in seconds. @default 5 */
  clockToleranceSec?: number;
}

export interface ServerOptions {
  /** The tRPC router, built with `initSwitchboard()` so it includes `channel.*` and the Switchboard context. */
  router: AnyTRPCRouter;
  /** Channel families this server serves; publish/subscribe on any other family is a BAD_REQUEST. */
  channels: readonly ChannelDefinition[];
  /** JWT verification. */
  jwt?: JwtOptions;
  /**
   * Custom authentication (session cookies, API keys). Returns the user or null (→ HTTP 401).
   * When set, it runs instead of JWT verification.
   */
  authenticate?: (req: IncomingMessage) => Promise<AuthUser | null> | AuthUser | null;
  /** Name of the cookie that may carry the token. @default 'sb_token' */
  cookieName?: string;
  /**
   * Broker for history and cross-process fan-out. History keeps `historySize` events per channel for at
   * most `historyMaxAgeMs` (`historyDefaults`: 1000 events, 24 h), which is also how long a publish's
   * `idempotencyKey` is remembered; channels without subscribers are forgotten after that.
   * @default createMemoryBroker()
   */
  broker?: Broker;
  /** WebSocket upgrade path. @default '/ws' */
  path?: string;
  /**
   * Origins allowed to open a WebSocket (exact match, e.g. 'https://app.example.com'); others get HTTP 403.
   * Requests without an Origin header (non-browser clients) are allowed. `['*']` allows all.
   * @default [] — only same-origin requests (Origin host equals the Host header)
   */
  allowedOrigins?: readonly string[];
  /** Interval between WebSocket ping frames, in ms. @default 30000 */
  heartbeatIntervalMs?: number;
  /** Terminate a connection that has not answered a ping within this time, in ms. @default 10000 */
  heartbeatTimeoutMs?: number;
  /** How often connections are checked for an expired token (closed with 4501 unless refreshed), in ms. @default 1000 */
  tokenExpiryCheckIntervalMs?: number;
  /** Interval of the sweep that removes registry entries whose socket is gone, in ms. @default 60000 */
  registrySweepIntervalMs?: number;
  /**
   * Largest inbound message (one request), in bytes; a larger one closes the connection with 1009.
   * @default 65536
   */
  maxPayloadBytes?: number;
  /**
   * Largest inbound frame, in bytes; a larger one closes the connection with 1009. `@trpc/client` sends
   * every request queued while disconnected in one frame (a reconnect resends every subscription), so a frame
   * may be larger than one message. @default 1048576
   */
  maxFrameBytes?: number;
  /**
   * Sustained inbound messages per second per connection (token bucket refill rate). Messages are counted,
   * not frames: a batch of 50 takes 50. A request over the rate is answered TOO_MANY_REQUESTS
   * (`RATE_LIMITED`); a connection that keeps sending while refused closes with 1008. @default 50
   */
  rateLimitPerSecond?: number;
  /**
   * Burst size of the per-connection token bucket, and the most messages one frame may batch. At least
   * `maxSubscriptionsPerConnection`, so a reconnect that resends every subscription in one frame fits.
   * @default 300
   */
  rateLimitBurst?: number;
  /** Open connections per server; further upgrades get HTTP 503. @default 10000 */
  maxConnections?: number;
  /**
   * Open connections per user (JWT `sub`) on this server; further upgrades of that user get HTTP 429 until
   * one closes, so one account cannot take every `maxConnections` slot. Each browser tab holds one socket:
   * 50 is above what a person opens across tabs and devices, and 0.5% of the default `maxConnections`.
   * Services that share one identity over many sockets should raise it. @default 50
   */
  maxConnectionsPerUser?: number;
  /** Channel subscriptions per connection; more get TOO_MANY_REQUESTS. @default 100 */
  maxChannelsPerConnection?: number;
  /** Any tRPC subscriptions per connection (channels and others); more close with 1008. @default 200 */
  maxSubscriptionsPerConnection?: number;
  /** Close a connection with 1013 once this many bytes wait in its send buffer (slow consumer). @default 1048576 */
  slowConsumerBytes?: number;
  /** How long graceful shutdown waits for clients to leave after the reconnect notice, in ms. @default 5000 */
  drainTimeoutMs?: number;
  /** Extra authorization for subscribing, after the family's `access` rule. @default allow */
  canSubscribe?: ChannelAuthorizer;
  /** Extra authorization for publishing, after the family's `access` rule. @default allow */
  canPublish?: ChannelAuthorizer;
  /** Structured logger. @default a pino logger at level 'info' */
  logger?: Logger;
  /**
   * Handles plain HTTP requests that are not upgrades (your routes). The server awaits what it returns: a
   * thrown error or rejected promise is answered (a SwitchboardError with its code's status, e.g.
   * BAD_REQUEST → 400; anything else 500) and logged at warn, never left to end the process. @default 404
   */
  onHttpRequest?: HttpRequestHandler;
  /** Identifies this instance in logs, metrics and the dashboard. @default a random id */
  instanceId?: string;
  /**
   * Serves the same router over plain HTTP at `httpPath` on the same port, for clients behind proxies that
   * block WebSockets: queries and mutations for tRPC's `httpBatchLink`/`httpLink`, subscriptions as
   * Server-Sent Events for `httpSubscriptionLink`, with the same authentication, origin check and limits.
   * @default true
   */
  httpTransport?: boolean;
  /** Path prefix of the HTTP transport (`/trpc/channel.publish`). @default '/trpc' */
  httpPath?: string;
  /**
   * Interval of the `ping` event on an idle SSE stream, in ms: keeps proxies from closing it and tells the
   * server the client is gone (a write to a dead peer fails). @default 15000
   */
  ssePingIntervalMs?: number;
  /**
   * Path of the connection-ticket route: `POST` with `Authorization: Bearer <token>` answers
   * `{ ticket, expiresAt }`, a single-use credential for `?ticket=` on the upgrade or an SSE stream, so a
   * long-lived token never goes into a URL. Set `httpTransport: false` to turn it off with the rest.
   * @default '/auth/ticket'
   */
  ticketPath?: string;
  /** How long a connection ticket stays valid, in ms (it is also single-use). @default 30000 */
  ticketTtlMs?: number;
}

export const serverDefaults = {
  cookieName: 'sb_token',
  path: '/ws',
  allowedOrigins: [] as readonly string[],
  heartbeatIntervalMs: 30_000,
  heartbeatTimeoutMs: 10_000,
  tokenExpiryCheckIntervalMs: 1000,
  registrySweepIntervalMs: 60_000,
  maxPayloadBytes: 64 * 1024,
  maxFrameBytes: 1024 * 1024,
  rateLimitPerSecond: 50,
  rateLimitBurst: 300,
  maxConnections: 10_000,
  maxConnectionsPerUser: 50,
  maxChannelsPerConnection: 100,
  maxSubscriptionsPerConnection: 200,
  slowConsumerBytes: 1024 * 1024,
  drainTimeoutMs: 5_000,
  clockToleranceSec: 5,
  httpTransport: true,
  httpPath: '/trpc',
  ssePingIntervalMs: 15_000,
  ticketPath: '/auth/ticket',
  ticketTtlMs: 30_000,
} as const;

type Defaulted = keyof typeof serverDefaults;
export type ResolvedServerOptions = Omit<ServerOptions, Defaulted | 'jwt'> &
  Required<Pick<ServerOptions, Exclude<Defaulted, 'clockToleranceSec'>>> & {
    jwt: JwtOptions & { clockToleranceSec: number };
  };

const positiveIntegers = [
  'heartbeatIntervalMs',
  'heartbeatTimeoutMs',
  'tokenExpiryCheckIntervalMs',
  'registrySweepIntervalMs',
  'maxPayloadBytes',
  'maxFrameBytes',
  'rateLimitPerSecond',
  'rateLimitBurst',
  'maxConnections',
  'maxConnectionsPerUser',
  'maxChannelsPerConnection',
  'maxSubscriptionsPerConnection',
  'slowConsumerBytes',
  'drainTimeoutMs',
  'ssePingIntervalMs',
  'ticketTtlMs',
] as const;

/** Merges defaults and rejects bad combinations with a message that names the fix. */
export function resolveServerOptions(options: ServerOptions): ResolvedServerOptions {
  const { clockToleranceSec, ...rest } = serverDefaults;
  const resolved = {
    ...rest,
    ...stripUndefined(options),
    router: options.router,
    channels: options.channels,
    jwt: { clockToleranceSec, ...stripUndefined(options.jwt ?? {}) },
  } as ResolvedServerOptions;
  for (const key of positiveIntegers) {
    const value = resolved[key];
    if (!Number.isFinite(value) || value <= 0) {
      throw new TypeError(`createSwitchboardServer: ${key} must be a positive number, got ${value}`);
    }
  }
  if (!options.authenticate && !options.jwt?.secret && !options.jwt?.publicKey) {
    throw new TypeError('createSwitchboardServer: set jwt.secret, jwt.publicKey or authenticate');
  }
  if (options.jwt?.secret && options.jwt.publicKey) {
    throw new TypeError('createSwitchboardServer: set either jwt.secret or jwt.publicKey, not both');
  }
  const secret = options.jwt?.secret;
  const secretBytes = typeof secret === 'string' ? Buffer.byteLength(secret, 'utf8') : secret?.byteLength;
  if (secretBytes !== undefined && secretBytes < MIN_JWT_SECRET_BYTES) {
    throw new TypeError(
      `createSwitchboardServer: jwt.secret is ${secretBytes} bytes; HS256 needs at least ${MIN_JWT_SECRET_BYTES} (RFC 7518 §3.2). Generate one with: openssl rand -base64 32`,
    );
  }
  if (resolved.maxFrameBytes < resolved.maxPayloadBytes) {
    throw new TypeError(
      `createSwitchboardServer: maxFrameBytes (${resolved.maxFrameBytes}) must be at least maxPayloadBytes (${resolved.maxPayloadBytes})`,
    );
  }
  if (resolved.rateLimitBurst < resolved.maxSubscriptionsPerConnection) {
    throw new TypeError(
      `createSwitchboardServer: rateLimitBurst (${resolved.rateLimitBurst}) must be at least maxSubscriptionsPerConnection (${resolved.maxSubscriptionsPerConnection}), or a reconnect that resends every subscription is refused`,
    );
  }
  for (const key of ['path', 'httpPath', 'ticketPath'] as const) {
    if (!resolved[key].startsWith('/')) {
      throw new TypeError(`createSwitchboardServer: ${key} must start with "/", got "${resolved[key]}"`);
    }
  }
  if (resolved.httpTransport && resolved.httpPath.replace(/\/+$/, '') === resolved.path) {
    throw new TypeError(
      `createSwitchboardServer: httpPath and path must differ (both "${resolved.path}"): set httpPath to e.g. "/trpc"`,
    );
  }
  return resolved;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
