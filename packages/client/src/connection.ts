import { ErrorCode, SwitchboardError, transformer } from '@switchboard/protocol';
import { createWSClient, type TRPCLink, type TRPCWebSocketClient, wsLink } from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';
import { observable } from '@trpc/server/observable';
import { checkAuth } from './authError.ts';
import { createBackoff } from './backoff.ts';
import {
  type CloseInfo,
  type ConnectionFailure,
  type ConnectionStore,
  createConnectionStore,
} from './connectionState.ts';
import { credentialQuery, withCredential } from './connectionTicket.ts';
import { asTRPCClientError, isTransportFailure } from './errors.ts';
import { instrumentWebSocket, reportsUpgradeStatus } from './instrumentWebSocket.ts';
import { clientDefaults, type ResolvedClientOptions } from './options.ts';
import { closeRefusal, createRepeatedRefusals, describeUpgradeRefusal, upgradeRefusal } from './refusal.ts';
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
 * - refusals retrying cannot fix stop reconnecting (see `ConnectionFailure`): close codes 4500-4999, a 4xx
 *   on the upgrade but 408/429 (Node reads it; browsers ask the auth check endpoint after repeated
 *   failures), and the same refusal close twice in a row with nothing accepted in between;
 * - calls settle: once stopped, waiting and new calls reject with why; a call whose socket closed before
 *   its answer rejects with `CONNECTION_LOST` (tRPC reports it as an error without a code);
 * - the token refresh learns which token each open socket carries, and when that socket is gone.
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
  const refusals = createRepeatedRefusals(clientDefaults.refusalClosesBeforeStop);
  const pendingCalls = new Set<{ fail(error: SwitchboardError): void }>();
  let stopped = false;
  /** Why the client stopped on its own; undefined after `close()` and while running. */
  let failure: ConnectionFailure | undefined;
  let failuresBeforeOpen = 0;
  /** The socket of the current attempt; events of any other socket are stale. */
  let current: SocketAttempt | undefined;
  /** The token `url()` handed to tRPC for the socket it is about to create. */
  let tokenOfNextSocket: string | undefined;

  const WebSocketImpl = instrumentWebSocket(
    options.WebSocket,
    {
      created(socket) {
        current = { socket, token: tokenOfNextSocket, opened: false, refused: undefined };
      },
      opened(socket) {
        if (current?.socket !== socket) return;
        current.opened = true;
        failuresBeforeOpen = 0;
        backoff.opened(Date.now());
        store.dispatch({ type: 'open' });
        tokenRefresh?.socketOpened(current.token);
      },
      refused(socket, status, detail) {
        if (current?.socket === socket) current.refused = { status, detail };
      },
      closed: socketOnClose,
    },
    clientDefaults.refusalBodyTimeoutMs,
  );

  function socketOnClose(socket: object, code: number, reason: string) {
    if (current?.socket !== socket) return;
    const attempt = current;
    forgetSocket();
    backoff.closed(Date.now());
    if (!attempt.opened) failuresBeforeOpen++;
    if (stopped) return;
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
    store.dispatch({ type: 'closed', close });
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
        if (authError) {
          const code = authError === 'forbidden' ? ErrorCode.FORBIDDEN : ErrorCode.UNAUTHORIZED;
          stop({ code, message: `the server refuses these credentials (${authError}, said the auth check)` });
        }
      }
      const credential = await credentialQuery({
        token,
        ticketUrl: options.ticketUrl,
        fetch: options.fetch,
        timeoutMs: options.authCheckTimeoutMs,
      });
      if (!isCurrent()) throw new ClientClosedError('the Switchboard client is closed');
      tokenOfNextSocket = token;
      return withCredential(options.url, credential);
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

  /** Stops reconnecting: `close()` (no `why`), or a refusal retrying cannot fix. */
  function stop(why?: ConnectionFailure, close?: CloseInfo) {
    if (stopped) return;
    stopped = true;
    failure = why;
    retryTimer.cancel();
    tokenRefresh?.socketClosed();
    options.onlineEvents?.removeEventListener('online', onOnline);
    store.dispatch({ type: 'stop', error: why, close });
    // No socket will answer them: settle them with the reason, before tRPC's close fails them vaguely
    // ("Closed before connection was established"). After `close()`, tRPC lets sent calls finish.
    if (why) {
      const error = stoppedError()!;
      for (const call of [...pendingCalls]) call.fail(error);
    }
    void transport.wsClient.close();
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
  const link: TRPCLink<AnyTRPCRouter> = (runtime) => (operation) =>
    observable((observer) => {
      const closedError = stoppedError();
      if (closedError) {
        observer.error(asTRPCClientError(closedError));
        return () => {};
      }
      const isCall = operation.op.type !== 'subscription';
      const call = {
        // The teardown below drops the call from tRPC's queue (see `callTimeoutLink`).
        fail: (error: SwitchboardError) => observer.error(asTRPCClientError(error)),
      };
      if (isCall) pendingCalls.add(call);
      const subscription = transport
        .link(runtime)(operation)
        .subscribe({
          next(envelope) {
            const { result } = envelope;
            if (isCall || result.type === 'started' || result.type === 'data' || result.type === undefined)
              refusals.accepted();
            observer.next(envelope);
          },
          error(error) {
            pendingCalls.delete(call);
            // The server's answers pass as they are; only failures on the way get a reason.
            if (!isTransportFailure(error)) return observer.error(error);
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
        });
      return () => {
        pendingCalls.delete(call);
        subscription.unsubscribe();
      };
    });

  options.onlineEvents?.addEventListener('online', onOnline);
  let transport: Transport = createTransport();

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
      refusals.reset();
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
