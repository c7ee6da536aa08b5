import type { ChannelDefinition } from '@switchboard/protocol';
import { createTRPCClient, type TRPCClient } from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';
import { authProceduresOf } from './authProcedures.ts';
import { createCallOrder } from './callOrder.ts';
import { callTimeoutLink } from './callTimeout.ts';
import { type ChannelHandle, createChannelHandle } from './channel.ts';
import { channelProceduresOf } from './channelProcedures.ts';
import { type ChannelSession, createChannelSession } from './channelSession.ts';
import { createConnection } from './connection.ts';
import { type ConnectionStore, describeConnectionState } from './connectionState.ts';
import { type ClientOptions, resolveClientOptions } from './options.ts';
import { createTokenRefresh } from './tokenRefresh.ts';

/** A Switchboard client: the app's typed tRPC client plus channels, over one WebSocket. */
export interface SwitchboardClient<TRouter extends AnyTRPCRouter = AnyTRPCRouter> {
  /** The typed tRPC client of the app's router (queries, mutations, subscriptions). */
  readonly trpc: TRPCClient<TRouter>;
  /** The connection state as an external store: `getSnapshot()` and `subscribe(listener)`. */
  readonly connection: ConnectionStore;
  /** A channel by definition and key, e.g. `client.channel(chatChannel, 'room-1')`. */
  channel<TDef extends ChannelDefinition>(definition: TDef, key: string): ChannelHandle<TDef>;
  /**
   * After the state became `closed` (refused credentials, or `close()`): connect again, calling `getToken()`
   * afresh, and resume every channel that still has subscribers. Does nothing while not closed.
   */
  reconnect(): void;
  /** Closes the connection and stops reconnecting; the state becomes `closed`. Idempotent. */
  close(): Promise<void>;
}

/**
 * Creates a client and starts connecting.
 *
 * @example
 * const client = createSwitchboardClient<AppRouter>({ url: 'wss://example.com/ws', getToken });
 * const room = client.channel(chatChannel, 'room-1');
 * const unsubscribe = room.subscribe({ replay: 50, onEvent: (event) => render(event) });
 * await room.publish('message', { text: 'hello' });
 */
export function createSwitchboardClient<TRouter extends AnyTRPCRouter = AnyTRPCRouter>(
  options: ClientOptions,
): SwitchboardClient<TRouter> {
  const resolved = resolveClientOptions(options);
  const { getToken, refreshBeforeExpiryMs } = resolved;
  const tokenRefresh =
    getToken && refreshBeforeExpiryMs !== false
      ? createTokenRefresh({
          refreshBeforeExpiryMs,
          getToken,
          // Called once a socket is open, long after `trpc` below exists.
          refresh: (token, signal) => authProceduresOf(trpc).auth.refresh.mutate({ token }, { signal }),
        })
      : undefined;
  const connection = createConnection(resolved, tokenRefresh);
  const callOrder = createCallOrder();
  const trpc = createTRPCClient<TRouter>({
    links: [
      // Outermost, so a call's time counts from when it was made, including its wait for its turn.
      callTimeoutLink({
        defaultTimeoutMs: resolved.callTimeoutMs,
        describeConnection: () => describeConnectionState(connection.state.getSnapshot()),
      }),
      callOrder.link,
      connection.link,
    ],
  });
  const procedures = channelProceduresOf(trpc);
  const sessions = new Map<string, ChannelSession>();

  connection.onRestart(() => {
    for (const session of sessions.values()) session.restart();
  });
  connection.state.subscribe((next, previous) => {
    if (next.status === 'closed' && previous.status !== 'closed')
      for (const session of sessions.values()) session.stop();
  });

  function sessionFor(channel: string): ChannelSession {
    let session = sessions.get(channel);
    if (!session) {
      const created = createChannelSession({
        channel,
        procedures,
        isStopped: () => connection.stopped,
        enqueue: callOrder.enqueue,
        callTimeoutMs: resolved.callTimeoutMs,
        unsubscribeDelayMs: resolved.unsubscribeDelayMs,
        backoff: resolved.backoff,
        onDisposed: () => {
          if (sessions.get(channel) === created) sessions.delete(channel);
        },
      });
      sessions.set(channel, created);
      session = created;
    }
    return session;
  }

  const handleDeps = {
    procedures,
    sessionFor,
    existingSession: (channel: string) => sessions.get(channel),
    stoppedError: () => connection.stoppedError(),
    callTimeoutMs: resolved.callTimeoutMs,
    backoff: resolved.backoff,
  };

  return {
    trpc,
    connection: connection.state,
    channel: (definition, key) => createChannelHandle(definition, key, handleDeps),
    reconnect: () => connection.reconnect(),
    close: () => connection.close(),
  };
}
