/**
 * Client options, their defaults (stated once, here) and the one function that merges and validates them.
 */
import { ProtocolLimits } from '@switchboard/protocol';

/** A WebSocket constructor: the global one in browsers, `WebSocket` from the `ws` package in Node. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => unknown;

/**
 * An EventSource constructor: the global one in browsers, `EventSource` from the `eventsource` package (v4)
 * in Node. Used by the HTTP transport for subscriptions (Server-Sent Events).
 */
export type EventSourceConstructor = new (
  url: string,
  init?: { withCredentials?: boolean },
) => EventSourceLike;

/** The part of an EventSource the client uses (browsers' and the `eventsource` package's both fit). */
export interface EventSourceLike {
  readonly readyState: number;
  readonly CLOSED: number;
  addEventListener(type: string, listener: (event: never) => void): void;
  close(): void;
}

/**
 * Which transport the client uses:
 * - `websocket`: one WebSocket only;
 * - `http`: the same router over HTTP (`httpBatchLink` for calls, Server-Sent Events for subscriptions);
 * - `auto`: WebSocket first; HTTP when upgrades keep failing at the network level while HTTP answers (a
 *   proxy that drops them), and WebSocket again once an upgrade gets through.
 */
export type TransportMode = 'auto' | 'websocket' | 'http';

/** Which transport a client is on now (`ConnectionState.transport`). */
export type TransportKind = 'websocket' | 'http';

/** Where `online` events come from (browsers: `window`). */
export interface OnlineEventSource {
  addEventListener(type: 'online', listener: () => void): void;
  removeEventListener(type: 'online', listener: () => void): void;
}

export interface BackoffOptions {
  /** Ceiling of the first retry's delay, in ms; each delay is random in [0, ceiling) (full jitter). @default 250 */
  initialDelayMs?: number;
  /** Largest ceiling of a delay, in ms. @default 30000 */
  maxDelayMs?: number;
  /**
   * A connection that stayed open this long resets the backoff, in ms. Shorter ones keep it growing, so a
   * server that accepts and drops connections at once is not hammered. @default 5000
   */
  stableAfterMs?: number;
}

export interface KeepAliveOptions {
  /** Send `PING` when the socket was silent for `intervalMs`, and close it without a `PONG`. @default true */
  enabled?: boolean;
  /** Silence before a ping, in ms. @default 20000 */
  intervalMs?: number;
  /** Time to wait for the `PONG`, in ms. @default 5000 */
  pongTimeoutMs?: number;
}

/** When an `auto` client on HTTP tries the WebSocket again. */
export interface WebSocketRetryOptions {
  /** Ceiling of the first delay after falling back, in ms (full jitter). @default 5000 */
  initialDelayMs?: number;
  /** Largest ceiling of a delay, in ms; the ceiling doubles after every upgrade that fails. @default 120000 */
  maxDelayMs?: number;
}

export interface ClientOptions {
  /** WebSocket endpoint, e.g. `wss://example.com/ws`. In browsers a path (`/ws`) is resolved against the page. */
  url: string;
  /**
   * `auto` starts on the WebSocket and falls back to HTTP + Server-Sent Events when upgrades fail at the
   * network level (`fallbackAfterFailures` in a row, closed before open without an HTTP status) while
   * `authCheckUrl` answers; never on a refusal (401, 403, 404: those stop the client). On HTTP it tries the
   * WebSocket again after `websocketRetry` delays and moves back once one opens. Subscriptions follow every
   * move and resume after their last event. `auto` without an EventSource (Node without `EventSource`)
   * stays on the WebSocket. @default 'auto'
   */
  transport?: TransportMode;
  /**
   * The HTTP transport's endpoint (Switchboard's `httpPath`).
   * @default the WebSocket URL's origin (http/https) + `/trpc`
   */
  httpUrl?: string;
  /** EventSource implementation for the HTTP transport; in Node `import { EventSource } from 'eventsource'`. @default globalThis.EventSource */
  EventSource?: EventSourceConstructor;
  /** `auto`: fall back after this many WebSocket attempts in a row failed at the network level. @default 2 */
  fallbackAfterFailures?: number;
  /** `auto`: delays before trying the WebSocket again while on HTTP. */
  websocketRetry?: WebSocketRetryOptions;
  /**
   * Called before every connection attempt, so an expired token is replaced on reconnect. The token is
   * exchanged at `ticketUrl` for a single-use ticket, which goes into the URL's `ticket` query parameter
   * (the token itself only to a server without tickets). Return nothing to rely on cookies. @default none
   */
  getToken?: () => string | null | undefined | Promise<string | null | undefined>;
  /**
   * Refresh the token in-band this long before it expires, in ms, so the server does not close a
   * long-lived connection (close code 4501): the client reads the JWT's `exp` (without verifying it),
   * calls `getToken()` and sends the result with the `auth.refresh` mutation. A token that lives less than
   * twice this long is refreshed halfway through what is left. `getToken()` must then return a token that
   * expires later than the current one (if not, it is asked again halfway to expiry). If the app has no
   * `auth.refresh` procedure or the refresh fails, the connection ends at expiry as without refresh (close
   * code 4501, `authError: 'unauthorized'`). `false` disables. @default 60000
   */
  refreshBeforeExpiryMs?: number | false;
  /** Reconnect delays (the connection, and retries of channel subscriptions that failed). */
  backoff?: BackoffOptions;
  /**
   * Endpoint asked why connections keep failing before they open (browsers cannot read the HTTP status
   * of a refused upgrade): `401` stops reconnecting with `authError: 'unauthorized'`, `403` with
   * `'forbidden'`, anything else keeps retrying. `false` disables the check.
   * @default the WebSocket URL's origin (http/https) + `/auth/check`
   */
  authCheckUrl?: string | false;
  /** Ask `authCheckUrl` after this many consecutive failures before open (and every as many after). @default 3 */
  authCheckAfterFailures?: number;
  /** Give up on one `authCheckUrl` request after this long, in ms. @default 5000 */
  authCheckTimeoutMs?: number;
  /**
   * Where a token is exchanged for a connection ticket before each connection attempt (`POST` with the
   * token as `Authorization: Bearer`), so the long-lived token never goes into the WebSocket URL. A server
   * without the route (404/405) gets `?token=` as before. `false` always sends `?token=`.
   * @default the WebSocket URL's origin (http/https) + `/auth/ticket`
   */
  ticketUrl?: string | false;
  /** `fetch` used for `authCheckUrl`, `ticketUrl` and the HTTP transport. @default globalThis.fetch */
  fetch?: typeof globalThis.fetch;
  /** WebSocket implementation; required in Node (`import WebSocket from 'ws'`). @default globalThis.WebSocket */
  WebSocket?: WebSocketConstructor;
  /** Retry at once (skipping the backoff wait) when this fires `online`. `null` disables. @default window */
  onlineEvents?: OnlineEventSource | null;
  /** Client-side liveness check of the socket. */
  keepAlive?: KeepAliveOptions;
  /**
   * How long a channel's server subscription outlives its last local subscriber, in ms, so an unsubscribe
   * followed at once by a subscribe (React Strict Mode, route changes) reuses it. @default 0
   */
  unsubscribeDelayMs?: number;
  /**
   * How long one connection attempt may take, in ms, from its start (token, ticket exchange, upgrade) until
   * the socket opens. An attempt still unfinished then is abandoned (its socket aborted) and counts as
   * failed; the backoff continues. Guards against an upgrade that is accepted and never answered (a hung
   * instance or middlebox). @default 10000
   */
  connectTimeoutMs?: number;
  /**
   * A query, mutation or `publish()` that has not settled this long after it was called rejects with
   * `TIMEOUT`, in ms, whether it waited for a connection or for the answer; a `publish()` retried after a
   * lost connection keeps its first deadline. Per call: `publish(type, payload, { timeoutMs })`, or
   * `trpc.x.query(input, { context: { timeoutMs } })`. `Infinity` waits forever. Subscriptions never time
   * out: they wait for the connection and resume. @default 10000
   */
  callTimeoutMs?: number;
}

/** Options of a channel view (`client.channel(def, key).view()`, what `useChannel` reads). */
export interface ChannelViewOptions {
  /** On entering, deliver up to this many stored events first (oldest first). @default 0 */
  replay?: number;
  /** Events kept in the snapshot (the newest); 0 keeps none (use `onEvent`). @default 100 */
  maxEvents?: number;
}

/** Largest `replay` the server accepts (`subscribeInputSchema` in protocol). */
export const MAX_REPLAY = ProtocolLimits.maxReplay;

export const clientDefaults = {
  transport: 'auto',
  httpPath: '/trpc',
  fallbackAfterFailures: 2,
  websocketRetry: { initialDelayMs: 5_000, maxDelayMs: 120_000 },
  authCheckPath: '/auth/check',
  ticketPath: '/auth/ticket',
  authCheckAfterFailures: 3,
  authCheckTimeoutMs: 5_000,
  unsubscribeDelayMs: 0,
  callTimeoutMs: 10_000,
  connectTimeoutMs: 10_000,
  /**
   * The same refusal close (1008/1009, same reason) this many times in a row, with nothing accepted in
   * between, stops reconnecting: sending the same again is refused again (issue 12, item 2).
   */
  refusalClosesBeforeStop: 2,
  /** Longest wait for the body (the reason) of a refused upgrade, in ms, before reporting the status alone. */
  refusalBodyTimeoutMs: 1_000,
  refreshBeforeExpiryMs: 60_000,
  backoff: { initialDelayMs: 250, maxDelayMs: 30_000, stableAfterMs: 5_000 },
  keepAlive: { enabled: true, intervalMs: 20_000, pongTimeoutMs: 5_000 },
  channelView: { replay: 0, maxEvents: 100 },
} as const satisfies {
  transport: TransportMode;
  httpPath: string;
  fallbackAfterFailures: number;
  websocketRetry: Required<WebSocketRetryOptions>;
  authCheckPath: string;
  ticketPath: string;
  authCheckAfterFailures: number;
  authCheckTimeoutMs: number;
  unsubscribeDelayMs: number;
  callTimeoutMs: number;
  connectTimeoutMs: number;
  refusalClosesBeforeStop: number;
  refusalBodyTimeoutMs: number;
  refreshBeforeExpiryMs: number;
  backoff: Required<BackoffOptions>;
  keepAlive: Required<KeepAliveOptions>;
  channelView: Required<ChannelViewOptions>;
};

export type ResolvedBackoffOptions = Required<BackoffOptions>;

export interface ResolvedClientOptions {
  url: string;
  /** `auto` without an EventSource resolves to `websocket`. */
  transport: TransportMode;
  httpUrl: string;
  EventSource: EventSourceConstructor | undefined;
  fallbackAfterFailures: number;
  websocketRetry: Required<WebSocketRetryOptions>;
  getToken: ClientOptions['getToken'];
  ticketUrl: string | false;
  refreshBeforeExpiryMs: number | false;
  backoff: ResolvedBackoffOptions;
  authCheckUrl: string | false;
  authCheckAfterFailures: number;
  authCheckTimeoutMs: number;
  fetch: typeof globalThis.fetch | undefined;
  /** Unused (and possibly missing) with `transport: 'http'`. */
  WebSocket: WebSocketConstructor;
  onlineEvents: OnlineEventSource | null;
  keepAlive: Required<KeepAliveOptions>;
  unsubscribeDelayMs: number;
  callTimeoutMs: number;
  connectTimeoutMs: number;
}

const PREFIX = 'createSwitchboardClient';

/** Merges the defaults and rejects bad values with a message that names the fix. */
export function resolveClientOptions(options: ClientOptions): ResolvedClientOptions {
  const url = resolveWebSocketUrl(options.url);
  const requested = options.transport ?? clientDefaults.transport;
  if (!['auto', 'websocket', 'http'].includes(requested)) {
    throw new TypeError(`${PREFIX}: transport must be 'auto', 'websocket' or 'http', got "${requested}"`);
  }
  const EventSourceImpl =
    options.EventSource ?? (globalThis as { EventSource?: EventSourceConstructor }).EventSource;
  if (requested === 'http' && typeof EventSourceImpl !== 'function') {
    throw new TypeError(
      `${PREFIX}: transport 'http' needs an EventSource. In Node, pass { EventSource } from the 'eventsource' package.`,
    );
  }
  const transport = requested === 'auto' && typeof EventSourceImpl !== 'function' ? 'websocket' : requested;
  const WebSocketImpl = options.WebSocket ?? (globalThis.WebSocket as WebSocketConstructor | undefined);
  if (transport !== 'http' && typeof WebSocketImpl !== 'function') {
    throw new TypeError(
      `${PREFIX}: no WebSocket implementation. In Node, pass { WebSocket } from the 'ws' package.`,
    );
  }
  const websocketRetry = { ...clientDefaults.websocketRetry, ...definedOnly(options.websocketRetry) };
  const backoff = { ...clientDefaults.backoff, ...definedOnly(options.backoff) };
  const resolved: ResolvedClientOptions = {
    url,
    transport,
    httpUrl: options.httpUrl ?? deriveHttpUrl(url, clientDefaults.httpPath),
    EventSource: EventSourceImpl,
    fallbackAfterFailures: options.fallbackAfterFailures ?? clientDefaults.fallbackAfterFailures,
    websocketRetry,
    getToken: options.getToken,
    ticketUrl:
      options.ticketUrl === undefined ? deriveHttpUrl(url, clientDefaults.ticketPath) : options.ticketUrl,
    refreshBeforeExpiryMs: options.refreshBeforeExpiryMs ?? clientDefaults.refreshBeforeExpiryMs,
    backoff,
    authCheckUrl:
      options.authCheckUrl === undefined
        ? deriveHttpUrl(url, clientDefaults.authCheckPath)
        : options.authCheckUrl,
    authCheckAfterFailures: options.authCheckAfterFailures ?? clientDefaults.authCheckAfterFailures,
    authCheckTimeoutMs: options.authCheckTimeoutMs ?? clientDefaults.authCheckTimeoutMs,
    fetch: options.fetch ?? globalThis.fetch?.bind(globalThis),
    WebSocket: WebSocketImpl as WebSocketConstructor,
    onlineEvents: options.onlineEvents === undefined ? defaultOnlineEvents() : options.onlineEvents,
    keepAlive: { ...clientDefaults.keepAlive, ...definedOnly(options.keepAlive) },
    unsubscribeDelayMs: options.unsubscribeDelayMs ?? clientDefaults.unsubscribeDelayMs,
    callTimeoutMs: options.callTimeoutMs ?? clientDefaults.callTimeoutMs,
    connectTimeoutMs: options.connectTimeoutMs ?? clientDefaults.connectTimeoutMs,
  };
  if (!(backoff.initialDelayMs > 0)) {
    throw new TypeError(`${PREFIX}: backoff.initialDelayMs must be > 0, got ${backoff.initialDelayMs}`);
  }
  if (!(backoff.maxDelayMs >= backoff.initialDelayMs)) {
    throw new TypeError(
      `${PREFIX}: backoff.maxDelayMs (${backoff.maxDelayMs}) must be >= backoff.initialDelayMs (${backoff.initialDelayMs})`,
    );
  }
  if (!(backoff.stableAfterMs >= 0)) {
    throw new TypeError(`${PREFIX}: backoff.stableAfterMs must be >= 0, got ${backoff.stableAfterMs}`);
  }
  if (!Number.isInteger(resolved.fallbackAfterFailures) || resolved.fallbackAfterFailures < 1) {
    throw new TypeError(
      `${PREFIX}: fallbackAfterFailures must be a positive integer, got ${resolved.fallbackAfterFailures}`,
    );
  }
  if (!(websocketRetry.initialDelayMs > 0 && websocketRetry.maxDelayMs >= websocketRetry.initialDelayMs)) {
    throw new TypeError(
      `${PREFIX}: websocketRetry needs 0 < initialDelayMs <= maxDelayMs, got ${websocketRetry.initialDelayMs} and ${websocketRetry.maxDelayMs}`,
    );
  }
  if (!Number.isInteger(resolved.authCheckAfterFailures) || resolved.authCheckAfterFailures < 1) {
    throw new TypeError(
      `${PREFIX}: authCheckAfterFailures must be a positive integer, got ${resolved.authCheckAfterFailures}`,
    );
  }
  if (resolved.refreshBeforeExpiryMs !== false && !(resolved.refreshBeforeExpiryMs >= 0)) {
    throw new TypeError(
      `${PREFIX}: refreshBeforeExpiryMs must be >= 0 or false, got ${resolved.refreshBeforeExpiryMs}`,
    );
  }
  assertTimeoutMs(resolved.callTimeoutMs, `${PREFIX}: callTimeoutMs`);
  assertTimeoutMs(resolved.connectTimeoutMs, `${PREFIX}: connectTimeoutMs`);
  if (!(resolved.unsubscribeDelayMs >= 0)) {
    throw new TypeError(`${PREFIX}: unsubscribeDelayMs must be >= 0, got ${resolved.unsubscribeDelayMs}`);
  }
  return resolved;
}

/**
 * Checks a call timeout (the client's, or one call's): a positive number of ms, or `Infinity` for none.
 * Throws a `TypeError` naming `what` otherwise.
 */
export function assertTimeoutMs(value: number, what: string): void {
  if (!(typeof value === 'number' && value > 0)) {
    throw new TypeError(`${what} must be a positive number of ms (or Infinity), got ${value}`);
  }
}

/** Resolves the view options of one channel view, clamping `replay` to what the server accepts. */
export function resolveChannelViewOptions(options: ChannelViewOptions = {}): Required<ChannelViewOptions> {
  const replay = options.replay ?? clientDefaults.channelView.replay;
  const maxEvents = options.maxEvents ?? clientDefaults.channelView.maxEvents;
  if (!Number.isInteger(replay) || replay < 0 || replay > MAX_REPLAY) {
    throw new TypeError(`channel view: replay must be an integer in [0, ${MAX_REPLAY}], got ${replay}`);
  }
  if (!Number.isInteger(maxEvents) || maxEvents < 0) {
    throw new TypeError(`channel view: maxEvents must be a non-negative integer, got ${maxEvents}`);
  }
  return { replay, maxEvents };
}

/** `ws:`/`wss:` URLs pass; `http(s):` becomes `ws(s):`; a path is resolved against the page (browsers). */
function resolveWebSocketUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw, (globalThis as { location?: { href: string } }).location?.href);
  } catch {
    throw new TypeError(`${PREFIX}: url must be an absolute ws:// or wss:// URL, got "${raw}"`);
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new TypeError(`${PREFIX}: url must use ws:// or wss://, got "${raw}"`);
  }
  return url.toString();
}

/** `path` on the WebSocket URL's origin, over http/https (the auth check, the ticket route). */
function deriveHttpUrl(wsUrl: string, path: string): string {
  const url = new URL(path, wsUrl);
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  return url.toString();
}

function defaultOnlineEvents(): OnlineEventSource | null {
  const candidate = globalThis as Partial<OnlineEventSource>;
  return typeof candidate.addEventListener === 'function' &&
    typeof candidate.removeEventListener === 'function'
    ? (candidate as OnlineEventSource)
    : null;
}

function definedOnly<T extends object>(value: T | undefined): Partial<T> {
  if (!value) return {};
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
