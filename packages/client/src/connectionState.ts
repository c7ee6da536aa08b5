import type { AuthError } from './authError.ts';

/** How a socket closed: the close frame's code and reason (1006 and '' when there was no close frame). */
export interface CloseInfo {
  code: number;
  reason: string;
}

/**
 * The state of a client's connection, one of five:
 * - `idle`: not connected and not trying (before the first attempt, after `reconnect()` until it starts);
 * - `connecting`: has not been open yet; `attempt` counts failed attempts so far, `nextRetryAt` is set
 *   while waiting to retry;
 * - `open`: connected;
 * - `reconnecting`: was open and lost the connection; `attempt` is the retry number (1 for the first);
 * - `closed`: stopped for good: `close()` was called, or the server refused for a reason retrying cannot fix
 *   (`authError`).
 * Every variant has the same fields, so `state.authError` reads without narrowing.
 */
export type ConnectionState =
  | { status: 'idle'; attempt: 0; lastClose?: CloseInfo; nextRetryAt?: undefined; authError?: undefined }
  | {
      status: 'connecting';
      attempt: number;
      lastClose?: CloseInfo;
      nextRetryAt?: number;
      authError?: undefined;
    }
  | { status: 'open'; attempt: 0; lastClose?: CloseInfo; nextRetryAt?: undefined; authError?: undefined }
  | {
      status: 'reconnecting';
      attempt: number;
      lastClose?: CloseInfo;
      nextRetryAt?: number;
      authError?: undefined;
    }
  | {
      status: 'closed';
      attempt: number;
      lastClose?: CloseInfo;
      nextRetryAt?: undefined;
      authError?: AuthError;
    };

export type ConnectionStatus = ConnectionState['status'];

/** What happens to a connection; `transition` turns each into the next state. */
export type ConnectionEvent =
  /** An attempt starts now (the URL is resolved, the socket is about to be created). */
  | { type: 'attempt' }
  /** The next attempt waits until `nextRetryAt` (ms since the epoch). */
  | { type: 'retry-scheduled'; nextRetryAt: number }
  | { type: 'open' }
  /** The socket closed, or an attempt failed before it had one (`close` undefined: e.g. `getToken` threw). */
  | { type: 'closed'; close?: CloseInfo }
  /** Stop for good. */
  | { type: 'stop'; authError?: AuthError; close?: CloseInfo }
  /** After `closed`: start over (`client.reconnect()`). */
  | { type: 'restart' };

export const initialConnectionState: ConnectionState = { status: 'idle', attempt: 0 };

/**
 * The one transition function of the connection state machine. Returns `state` itself when the event
 * changes nothing, so callers can tell a change by identity.
 */
export function transition(state: ConnectionState, event: ConnectionEvent): ConnectionState {
  if (state.status === 'closed') {
    return event.type === 'restart' ? withLastClose({ status: 'idle', attempt: 0 }, state.lastClose) : state;
  }
  const wasOpen = state.status === 'open' || state.status === 'reconnecting';
  let next: ConnectionState;
  switch (event.type) {
    case 'attempt':
      next =
        state.status === 'idle'
          ? { status: 'connecting', attempt: 0 }
          : state.status === 'open'
            ? { status: 'reconnecting', attempt: 1 }
            : { status: state.status, attempt: state.attempt };
      next = withLastClose(next, state.lastClose);
      break;
    case 'retry-scheduled':
      next = wasOpen
        ? { status: 'reconnecting', attempt: Math.max(1, state.attempt), nextRetryAt: event.nextRetryAt }
        : { status: 'connecting', attempt: state.attempt, nextRetryAt: event.nextRetryAt };
      next = withLastClose(next, state.lastClose);
      break;
    case 'open':
      next = withLastClose({ status: 'open', attempt: 0 }, state.lastClose);
      break;
    case 'closed': {
      const attempt = state.status === 'open' ? 1 : state.attempt + 1;
      next = withLastClose(
        wasOpen ? { status: 'reconnecting', attempt } : { status: 'connecting', attempt },
        event.close ?? state.lastClose,
      );
      break;
    }
    case 'stop':
      next = withLastClose(
        event.authError
          ? { status: 'closed', attempt: state.attempt, authError: event.authError }
          : { status: 'closed', attempt: state.attempt },
        event.close ?? state.lastClose,
      );
      break;
    case 'restart':
      return state;
  }
  return sameState(state, next) ? state : next;
}

function withLastClose<T extends ConnectionState>(state: T, lastClose: CloseInfo | undefined): T {
  return lastClose ? { ...state, lastClose } : state;
}

function sameState(a: ConnectionState, b: ConnectionState): boolean {
  return (
    a.status === b.status &&
    a.attempt === b.attempt &&
    a.nextRetryAt === b.nextRetryAt &&
    a.authError === b.authError &&
    a.lastClose === b.lastClose
  );
}

/** Called with the new and the previous state after every change. */
export type ConnectionListener = (next: ConnectionState, previous: ConnectionState) => void;

/** The connection state as an external store: React reads it with `useSyncExternalStore`. */
export interface ConnectionStore {
  getSnapshot(): ConnectionState;
  /** Returns the unsubscribe function. */
  subscribe(listener: ConnectionListener): () => void;
}

export interface WritableConnectionStore extends ConnectionStore {
  /** Applies an event; returns whether the state changed (listeners are notified only then). */
  dispatch(event: ConnectionEvent): boolean;
}

export function createConnectionStore(
  initial: ConnectionState = initialConnectionState,
): WritableConnectionStore {
  let state = initial;
  const listeners = new Set<ConnectionListener>();
  return {
    // Arrow functions: React calls these detached from the object.
    getSnapshot: () => state,
    subscribe: (listener) => {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    dispatch: (event) => {
      const previous = state;
      const next = transition(previous, event);
      if (next === previous) return false;
      state = next;
      for (const listener of [...listeners]) listener(next, previous);
      return true;
    },
  };
}
