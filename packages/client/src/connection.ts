import { isTerminalClose, transformer } from '@switchboard/protocol';
import { createWSClient, type TRPCLink, type TRPCWebSocketClient, wsLink } from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';
import { type AuthError, authErrorOfClose, authErrorOfStatus, checkAuth } from './authError.ts';
import { createBackoff } from './backoff.ts';
import { type CloseInfo, type ConnectionStore, createConnectionStore } from './connectionState.ts';
import { instrumentWebSocket, reportsUpgradeStatus } from './instrumentWebSocket.ts';
import type { ResolvedClientOptions } from './options.ts';
import { createRetryTimer } from './retryTimer.ts';
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
 * - terminal refusals (close codes 4500-4999, HTTP 401/403 on the upgrade, or the auth check endpoint
 *   answering 401/403 after repeated failures in browsers) stop reconnecting;
 * - the token refresh learns which token each open socket carries, and when that socket is gone.
 */
export interface Connection {
  /** Routes every tRPC operation to the current transport; stable across `reconnect()`. */
  readonly link: TRPCLink<AnyTRPCRouter>;
  readonly state: ConnectionStore;
  /** True once `close()` was called or the server refused for good (until `reconnect()`). */
  readonly stopped: boolean;
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
  refusedStatus: number | undefined;
}

interface Transport {
  wsClient: TRPCWebSocketClient;
  link: TRPCLink<AnyTRPCRouter>;
}

export function createConnection(options: ResolvedClientOptions, tokenRefresh?: TokenRefresh): Connection {
  const store = createConnectionStore();
  const backoff = createBackoff(options.backoff);
  const retryTimer = createRetryTimer();
  const restartListeners = new Set<() => void>();
  const readsUpgradeStatus = reportsUpgradeStatus(options.WebSocket);
  let stopped = false;
  let failuresBeforeOpen = 0;
  /** The socket of the current attempt; events of any other socket are stale. */
  let current: SocketAttempt | undefined;
  /** The token `url()` handed to tRPC for the socket it is about to create. */
  let tokenOfNextSocket: string | undefined;

  const WebSocketImpl = instrumentWebSocket(options.WebSocket, {
    created(socket) {
      current = { socket, token: tokenOfNextSocket, opened: false, refusedStatus: undefined };
    },
    opened(socket) {
      if (current?.socket !== socket) return;
      current.opened = true;
      failuresBeforeOpen = 0;
      backoff.opened(Date.now());
      store.dispatch({ type: 'open' });
      tokenRefresh?.socketOpened(current.token);
    },
    refused(socket, status) {
      if (current?.socket === socket) current.refusedStatus = status;
    },
    closed: socketOnClose,
  });

  function socketOnClose(socket: object, code: number, reason: string) {
    if (current?.socket !== socket) return;
    const attempt = current;
    forgetSocket();
    backoff.closed(Date.now());
    if (!attempt.opened) failuresBeforeOpen++;
    if (stopped) return;
    if (attempt.refusedStatus !== undefined) {
      const refusal = { code, reason: `upgrade refused with HTTP ${attempt.refusedStatus}` };
      const authError = authErrorOfStatus(attempt.refusedStatus);
      if (authError) return stop(authError, refusal);
      store.dispatch({ type: 'closed', close: refusal });
      return;
    }
    if (isTerminalClose(code)) return stop(authErrorOfClose(code), { code, reason });
    store.dispatch({ type: 'closed', close: { code, reason } });
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

  function createTransport(): Transport {
    let attempted = false;
    let wsClient: TRPCWebSocketClient | undefined;
    const isCurrent = () => !stopped && (wsClient === undefined || transport?.wsClient === wsClient);

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
      let token: string | undefined;
      try {
        token = (await options.getToken?.()) ?? undefined;
      } catch (cause) {
        store.dispatch({ type: 'closed' });
        throw cause;
      }
      if (authCheckDue()) {
        const authError = await checkAuth({
          url: options.authCheckUrl as string,
          token,
          fetch: options.fetch!,
          timeoutMs: options.authCheckTimeoutMs,
        });
        if (authError) stop(authError);
      }
      if (!isCurrent()) throw new ClientClosedError('the Switchboard client is closed');
      tokenOfNextSocket = token;
      return withToken(options.url, options.tokenQueryParam, token);
    }

    wsClient = createWSClient({
      url,
      WebSocket: WebSocketImpl,
      // The wait happens in `url`, where `online` and `close()` can end it.
      retryDelayMs: () => 0,
      keepAlive: options.keepAlive,
    });
    return { wsClient, link: wsLink({ client: wsClient, transformer }) };
  }

  function onOnline() {
    if (stopped) return;
    backoff.reset();
    retryTimer.skip();
  }

  function stop(authError?: AuthError, close?: CloseInfo) {
    if (stopped) return;
    stopped = true;
    retryTimer.cancel();
    tokenRefresh?.socketClosed();
    options.onlineEvents?.removeEventListener('online', onOnline);
    store.dispatch({ type: 'stop', authError, close });
    void transport.wsClient.close();
  }

  options.onlineEvents?.addEventListener('online', onOnline);
  let transport: Transport = createTransport();

  return {
    link: (runtime) => (operation) => transport.link(runtime)(operation),
    state: store,
    get stopped() {
      return stopped;
    },
    onRestart(listener) {
      restartListeners.add(listener);
      return () => restartListeners.delete(listener);
    },
    reconnect() {
      if (!stopped) return;
      stopped = false;
      failuresBeforeOpen = 0;
      current = undefined;
      backoff.reset();
      store.dispatch({ type: 'restart' });
      options.onlineEvents?.addEventListener('online', onOnline);
      transport = createTransport();
      for (const listener of [...restartListeners]) listener();
    },
    async close() {
      stop();
      await transport.wsClient.close();
    },
  };
}

function withToken(baseUrl: string, param: string, token: string | undefined): string {
  if (!token) return baseUrl;
  const url = new URL(baseUrl);
  url.searchParams.set(param, token);
  return url.toString();
}
