import { ErrorCode, SwitchboardError, transformer } from '@switchboard/protocol';
import {
  createWSClient,
  type OperationLink,
  type TRPCClientRuntime,
  type TRPCLink,
  type TRPCWebSocketClient,
  wsLink,
} from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';
import { observable } from '@trpc/server/observable';
import { checkAuth } from './authError.ts';
import { createBackoff } from './backoff.ts';
import { type ConnectAttempt, startConnectAttempt } from './connectAttempt.ts';
import {
  type CloseInfo,
  type ConnectionFailure,
  type ConnectionStore,
  createConnectionStore,
} from './connectionState.ts';
import { credentialQuery, withCredential } from './connectionTicket.ts';
import { asTRPCClientError, isTransportFailure } from './errors.ts';
import { type FollowingSubscription, followingSubscription, type Route } from './followingSubscription.ts';
import { httpTransportLink } from './httpTransport.ts';
import { instrumentWebSocket, reportsUpgradeStatus } from './instrumentWebSocket.ts';
import { clientDefaults, type ResolvedClientOptions, type TransportKind } from './options.ts';
import { closeRefusal, createRepeatedRefusals, describeUpgradeRefusal, upgradeRefusal } from './refusal.ts';
import { createRetryTimer } from './retryTimer.ts';
import { createSentRequests, createSocketGate, mayResend, type SocketGate } from './socketGate.ts';
import type { TokenRefresh } from './tokenRefresh.ts';

/** Rejection of requests made after the client stopped. */
export class ClientClosedError extends Error {
  override readonly name = 'ClientClosedError';
}

/**
 * One client's connection: tRPC's `createWSClient` underneath, with Switchboard's reconnect policy around it.
 *
 * tRPC's client owns the socket, the request bookkeeping and the resubscription of subscriptions after a
 * reconnect (with `lastEventId`). This module owns everything about *when* and *whether* to connect:
 * - the wait before a retry happens inside the `url` callback (tRPC's `retryDelayMs` is 0), because tRPC's
 *   own sleep cannot be interrupted, and an `online` event or `close()` must end the wait;
 * - `getToken()` is called in the same callback, so every attempt carries a fresh token;
 * - refusals retrying cannot fix stop reconnecting (see `ConnectionFailure`): close codes 4500-4999, a 4xx
 *   on the upgrade but 408/429 (Node reads it; browsers ask the auth check endpoint after repeated
 *   failures), and the same refusal close twice in a row with nothing accepted in between;
 * - calls settle: once stopped, waiting and new calls reject with why; a call whose socket closed before
 *   its answer rejects with `CONNECTION_LOST` (tRPC reports it as an error without a code);
 * - the token refresh learns which token each open socket carries, and when that socket is gone;
 * - which transport carries the operations: the WebSocket, or HTTP + Server-Sent Events when `auto` falls
 *   back (see `ClientOptions.transport`); subscriptions move with it and resume (`followingSubscription`).
 */
export interface Connection {
  /** Routes every tRPC operation to the current transport; stable across `reconnect()`. */
  readonly link: TRPCLink<AnyTRPCRouter>;
  readonly state: ConnectionStore;
  /** True once `close()` was called or the server refused for good (until `reconnect()`). */
  readonly stopped: boolean;
  /** While stopped: what calls reject with (the refusal, or "the client is closed" after `close()`). */
  stoppedError(): SwitchboardError | undefined;
  /** Called after `reconnect()` started a new transport: subscriptions that ended must start again. */
  onRestart(listener: () => void): () => void;
  reconnect(): void;
  close(): Promise<void>;
}

interface SocketAttempt {
  socket: object;
  /** The token this socket connected with. */
  token: string | undefined;
  opened: boolean;
  refused: { status: number; detail: string | undefined } | undefined;
  /** HTTP answered just before this attempt: if it fails at the network level, upgrades are blocked. */
  httpAnswered: boolean;
  /** The attempt's deadline (`connectTimeoutMs`). */
  connect: ConnectAttempt | undefined;
}

interface Transport {
  kind: TransportKind;
  /** The WebSocket transport's tRPC client. */
  wsClient?: TRPCWebSocketClient;
  /** The WebSocket transport: operations wait here for an open socket. */
  gate?: SocketGate;
  link: TRPCLink<AnyTRPCRouter>;
  /** `link` initialised with the client's runtime, once (`httpBatchLink` batches per initialisation). */
  operationLink?: OperationLink<AnyTRPCRouter>;
  close(): Promise<void>;
}

export function createConnection(options: ResolvedClientOptions, tokenRefresh?: TokenRefresh): Connection {
  const store = createConnectionStore();
  const backoff = createBackoff(options.backoff);
  const retryTimer = createRetryTimer();
  const restartListeners = new Set<() => void>();
  const readsUpgradeStatus = reportsUpgradeStatus(options.WebSocket);
  const refusals = createRepeatedRefusals(clientDefaults.refusalClosesBeforeStop);
  const pendingCalls = new Set<{ fail(error: SwitchboardError): void; waiting(): boolean }>();
  /** Which operations in flight went on the wire (a mutation that did may not be sent again). */
  const sentRequests = createSentRequests();
  let stopped = false;
  /** Why the client stopped on its own; undefined after `close()` and while running. */
  let failure: ConnectionFailure | undefined;
  let failuresBeforeOpen = 0;
  /** Attempts in a row that closed before open without an HTTP status (`auto` falls back after some). */
  let networkFailuresBeforeOpen = 0;
  /** Whether the auth check answered before the socket `url()` is about to hand to tRPC. */
  let httpAnsweredForNextSocket = false;
  const subscriptions = new Set<FollowingSubscription>();
  /** Calls made on the WebSocket transport and not settled: unsent while no socket is open. */
  const unsentCalls = new Set<FollowingSubscription>();
  let runtime: TRPCClientRuntime | undefined;
  /** `auto` on HTTP: when to try the WebSocket again. */
  const websocketRetry = createBackoff({ ...options.websocketRetry, stableAfterMs: 0 });
  let websocketRetryTimer: ReturnType<typeof setTimeout> | undefined;
  let websocketProbe: { close(): void } | undefined;
  /** The socket of the current attempt; events of any other socket are stale. */
  let current: SocketAttempt | undefined;
  /** The token `url()` handed to tRPC for the socket it is about to create. */
  let tokenOfNextSocket: string | undefined;
  /** The attempt under way (from `url()` until its socket opens or closes). */
  let connectAttempt: ConnectAttempt | undefined;

  const WebSocketImpl = instrumentWebSocket(
    options.WebSocket,
    {
      created(socket) {
        current = {
          socket,
          token: tokenOfNextSocket,
          opened: false,
          refused: undefined,
          httpAnswered: httpAnsweredForNextSocket,
          connect: connectAttempt,
        };
        httpAnsweredForNextSocket = false;
      },
      opened(socket) {
        if (current?.socket !== socket) return;
        current.opened = true;
        current.connect?.end();
        failuresBeforeOpen = 0;
        networkFailuresBeforeOpen = 0;
        backoff.opened(Date.now());
        store.dispatch({ type: 'open' });
        tokenRefresh?.socketOpened(current.token);
      },
      refused(socket, status, detail) {
        if (current?.socket === socket) current.refused = { status, detail };
      },
      closed: socketOnClose,
      errored(socket) {
        // Before tRPC's own listeners fail the requests of this socket: the ones sent again must wait.
        if (current?.socket === socket) transport.gate?.setOpen(false);
      },
      sent: (_socket, data) => sentRequests.recordFrame(data),
    },
    clientDefaults.refusalBodyTimeoutMs,
  );

  function socketOnClose(socket: object, code: number, reason: string) {
    if (current?.socket !== socket) return;
    transport.gate?.setOpen(false);
    const attempt = current;
    attempt.connect?.end();
    forgetSocket();
    backoff.closed(Date.now());
    if (!attempt.opened) failuresBeforeOpen++;
    if (!attempt.opened && !attempt.refused) networkFailuresBeforeOpen++;
    if (attempt.refused) networkFailuresBeforeOpen = 0;
    if (stopped) return;
    // HTTP answered a moment ago and the upgrade still failed on the way: something between drops
    // WebSockets. (Before the check, a server that was down and is back would look the same.)
    if (!attempt.opened && !attempt.refused && attempt.httpAnswered && fallbackAllowed()) {
      return switchTransport('http');
    }
    if (attempt.refused) {
      const { status, detail } = attempt.refused;
      const close = { code, reason: describeUpgradeRefusal(status, detail) };
      const refusal = upgradeRefusal(status, detail);
      if (refusal) return stop(refusal, close);
      store.dispatch({ type: 'closed', close });
      return;
    }
    const close = { code, reason };
    const refusal = closeRefusal(close) ?? (attempt.opened ? refusals.closed(close) : undefined);
    if (refusal) return stop(refusal, close);
    store.dispatch({
      type: 'closed',
      close,
      attemptError: attempt.opened ? undefined : attempt.connect?.abandoned,
    });
  }

  /** The attempt was abandoned (deadline, or the client stopped): abort its socket if it is still opening. */
  function abortSocketOf(attempt: ConnectAttempt) {
    if (!current || current.connect !== attempt || current.opened) return;
    const socket = current.socket as { terminate?(): void; close(): void };
    // `ws` aborts the handshake either way; a browser's close() on a connecting socket fires error + close.
    if (typeof socket.terminate === 'function') socket.terminate();
    else socket.close();
  }

  /** The current socket is gone (or will be, unnoticed): its token no longer needs a refresh. */
  function forgetSocket() {
    current = undefined;
    tokenRefresh?.socketClosed();
  }

  function authCheckDue(): boolean {
    return (
      options.authCheckUrl !== false &&
      options.fetch !== undefined &&
      !readsUpgradeStatus &&
      failuresBeforeOpen > 0 &&
      failuresBeforeOpen % options.authCheckAfterFailures === 0
    );
  }

  function fallbackAllowed(): boolean {
    return options.transport === 'auto' && transport.kind === 'websocket';
  }

  /** `auto` on the WebSocket: enough attempts failed on the way to ask whether HTTP gets through. */
  function fallbackDue(): boolean {
    return fallbackAllowed() && networkFailuresBeforeOpen >= options.fallbackAfterFailures;
  }

  /** The auth check's answer; without an endpoint to ask, HTTP is taken to answer (and nothing refused). */
  async function askAuthCheck(token: string | undefined) {
    if (options.authCheckUrl === false || !options.fetch) return { reachable: true };
    return checkAuth({
      url: options.authCheckUrl,
      token,
      fetch: options.fetch,
      timeoutMs: options.authCheckTimeoutMs,
    });
  }

  /** Stops with the auth check's refusal. */
  function stopRefusedByAuthCheck(authError: 'unauthorized' | 'forbidden') {
    const code = authError === 'forbidden' ? ErrorCode.FORBIDDEN : ErrorCode.UNAUTHORIZED;
    stop({ code, message: `the server refuses these credentials (${authError}, said the auth check)` });
  }

  /** A URL with fresh credentials: a single-use ticket for the token `getToken()` returns now. */
  async function urlWithCredential(baseUrl: string, token: string | undefined): Promise<string> {
    const credential = await credentialQuery({
      token,
      ticketUrl: options.ticketUrl,
      fetch: options.fetch,
      timeoutMs: options.authCheckTimeoutMs,
    });
    return withCredential(baseUrl, credential);
  }

  function createTransport(kind: TransportKind): Transport {
    return kind === 'http' ? createHttpTransport() : createWebSocketTransport();
  }

  function createHttpTransport(): Transport {
    let self: Transport | undefined;
    const isCurrent = () => !stopped && transport === self;
    self = {
      kind: 'http',
      link: httpTransportLink({
        httpUrl: options.httpUrl,
        EventSource: options.EventSource!,
        fetch: options.fetch,
        getToken: options.getToken,
        sse: {
          backoff: options.backoff,
          async urlFor(url) {
            if (!isCurrent()) throw new ClientClosedError('the Switchboard client is closed');
            const token = (await options.getToken?.()) ?? undefined;
            return urlWithCredential(url, token);
          },
          opened() {
            if (isCurrent()) store.dispatch({ type: 'open' });
          },
          async failed({ refused, status }) {
            if (!isCurrent()) return 'stop';
            if (refused) {
              // Node reads the status; a browser asks the auth check, as after failed upgrades.
              const refusal = status ? upgradeRefusal(status, undefined) : undefined;
              if (refusal) {
                stop(refusal, { code: 1006, reason: describeUpgradeRefusal(status!, undefined) });
                return 'stop';
              }
              if (!status) {
                const answer = await askAuthCheck((await options.getToken?.()) ?? undefined);
                if (answer.authError) stopRefusedByAuthCheck(answer.authError);
                if (!isCurrent()) return 'stop';
              }
            }
            store.dispatch({ type: 'closed' });
            return 'retry';
          },
        },
      }),
      async close() {
        // The streams end with their subscriptions (see `stop` and `switchTransport`).
      },
    };
    return self;
  }

  function createWebSocketTransport(): Transport {
    let attempted = false;
    let wsClient: TRPCWebSocketClient | undefined;
    let self: Transport | undefined;
    const isCurrent = () => !stopped && (self === undefined || transport === self);

    /** Called by tRPC before every connection attempt. */
    async function url(): Promise<string> {
      if (!isCurrent()) {
        // A request on a stopped client reopens tRPC's client: close it again, or it would retry forever.
        void wsClient?.close();
        throw new ClientClosedError('the Switchboard client is closed');
      }
      if (current?.opened) {
        // The server asked us to reconnect while this socket is still open: it is not news when it closes.
        backoff.closed(Date.now());
        forgetSocket();
      }
      if (attempted) {
        const delayMs = backoff.next();
        store.dispatch({ type: 'retry-scheduled', nextRetryAt: Date.now() + delayMs });
        await retryTimer.wait(delayMs);
      }
      attempted = true;
      store.dispatch({ type: 'attempt' });
      const attempt = startConnectAttempt(options.connectTimeoutMs, () => abortSocketOf(attempt));
      connectAttempt = attempt;
      let stage = 'getToken()';
      try {
        const token = (await attempt.within(Promise.resolve().then(() => options.getToken?.()))) ?? undefined;
        stage = 'the auth check';
        let httpAnswered = false;
        const fallback = fallbackDue();
        if (authCheckDue() || fallback) {
          const answer = await attempt.within(askAuthCheck(token));
          if (answer.authError) stopRefusedByAuthCheck(answer.authError);
          httpAnswered = fallback && answer.reachable;
        }
        stage = 'the ticket exchange';
        const socketUrl = await attempt.within(urlWithCredential(options.url, token));
        if (!isCurrent()) throw new ClientClosedError('the Switchboard client is closed');
        tokenOfNextSocket = token;
        httpAnsweredForNextSocket = httpAnswered;
        return socketUrl;
      } catch (cause) {
        if (!isCurrent()) {
          attempt.end();
          throw new ClientClosedError('the Switchboard client is closed', { cause });
        }
        // The state says why: there is no socket whose close could.
        const why =
          attempt.abandoned ?? `${stage} failed: ${cause instanceof Error ? cause.message : String(cause)}`;
        attempt.end();
        store.dispatch({ type: 'closed', attemptError: why });
        throw cause;
      }
    }

    wsClient = createWSClient({
      url,
      WebSocket: WebSocketImpl,
      // The wait happens in `url`, where `online` and `close()` can end it.
      retryDelayMs: () => 0,
      keepAlive: options.keepAlive,
    });
    const client = wsClient;
    const gate = createSocketGate();
    // `pending` is tRPC's "open": set in its `open` listener, before the requests it resends.
    wsClient.connectionState.subscribe({ next: (state) => gate.setOpen(state.state === 'pending') });
    self = {
      kind: 'websocket',
      wsClient,
      gate,
      link: wsLink({ client: wsClient, transformer }),
      close: () => client.close(),
    };
    return self;
  }

  /** The current transport's operation link, initialised once per transport. */
  function currentOperationLink(): OperationLink<AnyTRPCRouter> {
    transport.operationLink ??= transport.link(runtime!);
    return transport.operationLink;
  }

  /** Where an operation goes now, and whether one that failed on the way is sent again (`SocketGate`). */
  function routeFor(type: 'query' | 'mutation' | 'subscription', id: number): Route {
    const { gate } = transport;
    return {
      link: currentOperationLink(),
      whenReady: gate?.whenOpen,
      resendAfter: gate
        ? (error) => !stopped && transport.gate === gate && mayResend(error, type, sentRequests.wasSent(id))
        : undefined,
    };
  }

  /**
   * Moves the client to `kind`: subscriptions leave the old transport and resume on the new one from
   * their last event; calls in flight finish where they are.
   */
  function switchTransport(kind: TransportKind) {
    if (stopped || transport.kind === kind) return;
    const previous = transport;
    // The old socket's late events are stale from here on.
    forgetSocket();
    failuresBeforeOpen = 0;
    networkFailuresBeforeOpen = 0;
    transport = createTransport(kind);
    store.dispatch({ type: 'transport', transport: kind });
    // HTTP answered just now; the WebSocket reports `open` itself.
    if (kind === 'http') store.dispatch({ type: 'open' });
    for (const subscription of [...subscriptions]) subscription.move();
    // The WebSocket never opened since its last failure (the fallback follows one that failed before
    // open), so every call still on it is unsent: send it over HTTP instead of failing it.
    if (kind === 'http') for (const call of [...unsentCalls]) call.move();
    void previous.close();
    if (kind === 'http') scheduleWebSocketRetry();
    else {
      clearTimeout(websocketRetryTimer);
      websocketRetry.reset();
    }
  }

  /** `auto` on HTTP: after a delay, open a WebSocket; if it opens, move back to it. */
  function scheduleWebSocketRetry() {
    clearTimeout(websocketRetryTimer);
    websocketRetryTimer = setTimeout(() => void tryWebSocket(), websocketRetry.next());
  }

  async function tryWebSocket() {
    if (stopped || transport.kind !== 'http') return;
    let socket: WebSocket;
    try {
      const token = (await options.getToken?.()) ?? undefined;
      const probeUrl = await urlWithCredential(options.url, token);
      if (stopped || transport.kind !== 'http') return;
      socket = new (options.WebSocket as unknown as typeof WebSocket)(probeUrl);
    } catch {
      return scheduleWebSocketRetry();
    }
    websocketProbe = socket;
    let opened = false;
    socket.addEventListener('open', () => {
      opened = true;
      // The probe only proves the way is clear; tRPC's client opens its own socket.
      socket.close(1000, 'probe');
      if (websocketProbe === socket) switchTransport('websocket');
    });
    socket.addEventListener('error', () => {});
    socket.addEventListener('close', () => {
      if (websocketProbe === socket) websocketProbe = undefined;
      if (!opened && !stopped && transport.kind === 'http') scheduleWebSocketRetry();
    });
  }

  function onOnline() {
    if (stopped) return;
    backoff.reset();
    retryTimer.skip();
  }

  /** Stops reconnecting: `close()` (no `why`), or a refusal retrying cannot fix. */
  function stop(why?: ConnectionFailure, close?: CloseInfo) {
    if (stopped) return;
    stopped = true;
    failure = why;
    retryTimer.cancel();
    // A connect under way would hold tRPC's close() until its socket opens or fails (a hung upgrade: never).
    connectAttempt?.abandon('the client is closed');
    clearTimeout(websocketRetryTimer);
    websocketProbe?.close();
    websocketProbe = undefined;
    tokenRefresh?.socketClosed();
    options.onlineEvents?.removeEventListener('online', onOnline);
    store.dispatch({ type: 'stop', error: why, close });
    // No socket will answer them: settle them with the reason, before tRPC's close fails them vaguely
    // ("Closed before connection was established"). After `close()`, tRPC lets sent calls finish; calls
    // still waiting for a socket fail with "the client is closed".
    const error = stoppedError()!;
    for (const call of [...pendingCalls]) if (why || call.waiting()) call.fail(error);
    // As tRPC's WebSocket client does when it closes, on either transport.
    for (const subscription of [...subscriptions]) subscription.end();
    void transport.close();
  }

  function stoppedError(): SwitchboardError | undefined {
    if (!stopped) return undefined;
    if (failure) return new SwitchboardError(failure.code, failure.message);
    return new SwitchboardError(ErrorCode.BAD_REQUEST, 'the Switchboard client is closed');
  }

  /**
   * Sends an operation through the current transport, and keeps what the connection must know: that the
   * server accepted something (a refusal count starts over), and which calls wait for an answer.
   */
  const link: TRPCLink<AnyTRPCRouter> = (clientRuntime) => {
    runtime = clientRuntime;
    return (operation) =>
      observable((observer) => {
        const closedError = stoppedError();
        if (closedError) {
          observer.error(asTRPCClientError(closedError));
          return () => {};
        }
        const isCall = operation.op.type !== 'subscription';
        let following: { unsubscribe(): void; readonly waiting: boolean } | undefined;
        const call = {
          // The teardown below drops the call from tRPC's queue (see `callTimeoutLink`).
          fail: (error: SwitchboardError) => observer.error(asTRPCClientError(error)),
          waiting: () => following?.waiting === true,
        };
        if (isCall) pendingCalls.add(call);
        // Over HTTP, calls are what says whether the transport gets through.
        const overHttp = transport.kind === 'http' ? transport : undefined;
        const handlers = {
          next(envelope: Parameters<typeof observer.next>[0]) {
            const { result } = envelope;
            if (isCall || result.type === 'started' || result.type === 'data' || result.type === undefined)
              refusals.accepted();
            if (isCall && overHttp === transport) store.dispatch({ type: 'open' });
            observer.next(envelope);
          },
          error(error: Parameters<typeof observer.error>[0]) {
            pendingCalls.delete(call);
            // The server's answers pass as they are; only failures on the way get a reason.
            if (!isTransportFailure(error)) return observer.error(error);
            if (overHttp === transport && !stopped) store.dispatch({ type: 'closed' });
            const lost = new SwitchboardError(
              ErrorCode.CONNECTION_LOST,
              // tRPC's message says nothing here ("Unknown error", "WebSocket closed").
              'the connection closed before the answer arrived',
              { cause: error },
            );
            observer.error(asTRPCClientError(stoppedError() ?? lost));
          },
          complete() {
            pendingCalls.delete(call);
            observer.complete();
          },
        };
        // On the WebSocket, an operation waits for an open socket (and moves with a fallback to HTTP while
        // it waits); over HTTP a call is a request of its own and finishes where it started.
        const { type, id } = operation.op;
        sentRequests.track(id);
        const live = isCall ? unsentCalls : subscriptions;
        following =
          !isCall || transport.kind === 'websocket'
            ? followingSubscription(operation, () => routeFor(type, id), handlers, live)
            : undefined;
        const subscription = following ?? currentOperationLink()(operation).subscribe(handlers);
        return () => {
          pendingCalls.delete(call);
          sentRequests.forget(id);
          subscription.unsubscribe();
        };
      });
  };

  options.onlineEvents?.addEventListener('online', onOnline);
  let transport: Transport = createTransport(options.transport === 'http' ? 'http' : 'websocket');
  store.dispatch({ type: 'transport', transport: transport.kind });

  return {
    link,
    state: store,
    get stopped() {
      return stopped;
    },
    stoppedError,
    onRestart(listener) {
      restartListeners.add(listener);
      return () => restartListeners.delete(listener);
    },
    reconnect() {
      if (!stopped) return;
      stopped = false;
      failure = undefined;
      failuresBeforeOpen = 0;
      networkFailuresBeforeOpen = 0;
      refusals.reset();
      current = undefined;
      backoff.reset();
      websocketRetry.reset();
      store.dispatch({ type: 'restart' });
      options.onlineEvents?.addEventListener('online', onOnline);
      transport = createTransport(options.transport === 'http' ? 'http' : 'websocket');
      store.dispatch({ type: 'transport', transport: transport.kind });
      for (const listener of [...restartListeners]) listener();
    },
    async close() {
      stop();
      await transport.close();
    },
  };
}
