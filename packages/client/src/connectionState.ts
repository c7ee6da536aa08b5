import type { ErrorCode } from '@switchboard/protocol';
import { type AuthError, authErrorOfCode } from './authError.ts';
import type { TransportKind } from './options.ts';

/** How a socket closed: the close frame's code and reason (1006 and '' when there was no close frame). */
export interface CloseInfo {
  code: number;
  reason: string;
}

/**
 * Why the client stopped on its own: the server refused in a way that retrying cannot fix. `code` is what
 * calls made meanwhile reject with; `message` says why, with the server's reason when it gave one:
 * - `UNAUTHORIZED` / `FORBIDDEN`: HTTP 401/403 on the upgrade, close codes 4500-4503, or the auth check;
 * - `NOT_FOUND`: HTTP 404 on the upgrade (no WebSocket endpoint at the URL);
 * - `BAD_REQUEST`: any other 4xx on the upgrade (but 408 and 429), or the same refusal close (1008/1009,
 *   same reason) twice in a row with nothing accepted in between (`lastClose` is that close).
 */
export interface ConnectionFailure {
  code: ErrorCode;
  message: string;
}

/**
 * The state of a client's connection, one of five:
 * - `idle`: not connected and not trying (before the first attempt, after `reconnect()` until it starts);
 * - `connecting`: has not been open yet; `attempt` counts failed attempts so far, `nextRetryAt` is set
 *   while waiting to retry;
 * - `open`: connected;
 * - `reconnecting`: was open and lost the connection; `attempt` is the retry number (1 for the first);
 * - `closed`: stopped for good: `close()` was called, or the server refused for a reason retrying cannot fix
 *   (`error`, and `authError` when it is about credentials); `reconnect()` starts over.
 * `attemptError` says why the last attempt failed when no close frame says it (`getToken()` threw, the connect
 * timed out); it is cleared when a socket opens, closes on its own, or the client stops.
 * Every variant has the same fields, so `state.authError` and `state.error` read without narrowing.
 * `transport` says which transport the client is on (or trying): `websocket`, or `http` (HTTP calls and
 * Server-Sent Events) after an `auto` client fell back, or with `transport: 'http'`.
 */
export type ConnectionState =
  | (StateFields & { status: 'idle'; attempt: 0; nextRetryAt?: undefined } & NoFailure)
  | (StateFields & { status: 'connecting'; attempt: number; nextRetryAt?: number } & NoFailure)
  | (StateFields & { status: 'open'; attempt: 0; nextRetryAt?: undefined } & NoFailure)
  | (StateFields & { status: 'reconnecting'; attempt: number; nextRetryAt?: number } & NoFailure)
  | (StateFields & {
      status: 'closed';
      attempt: number;
      nextRetryAt?: undefined;
      /** Set when the server refused the credentials: `error.code` is UNAUTHORIZED or FORBIDDEN. */
      authError?: AuthError;
      /** Why the client stopped, when it was not `close()`. */
      error?: ConnectionFailure;
    });

/** The fields every state has. */
interface StateFields {
  transport: TransportKind;
  lastClose?: CloseInfo;
  attemptError?: string;
}

/** Only a `closed` client has failed: the other states carry no failure. */
interface NoFailure {
  authError?: undefined;
  error?: undefined;
}

export type ConnectionStatus = ConnectionState['status'];

/** What happens to a connection; `transition` turns each into the next state. */
export type ConnectionEvent =
  /** An attempt starts now (the URL is resolved, the socket is about to be created). */
  | { type: 'attempt' }
  /** The next attempt waits until `nextRetryAt` (ms since the epoch). */
  | { type: 'retry-scheduled'; nextRetryAt: number }
  | { type: 'open' }
  /**
   * The socket closed, or an attempt failed before it had one (`close` undefined: e.g. `getToken` threw);
   * `attemptError` says why when the close does not (see `ConnectionState`).
   */
  | { type: 'closed'; close?: CloseInfo; attemptError?: string }
  /** Stop for good: `close()` (no `error`), or a refusal retrying cannot fix. */
  | { type: 'stop'; error?: ConnectionFailure; close?: CloseInfo }
  /** After `closed`: start over (`client.reconnect()`). */
  | { type: 'restart' }
  /** The client moved to another transport; the status is unchanged until that one opens or fails. */
  | { type: 'transport'; transport: TransportKind };

export const initialConnectionState: ConnectionState = { status: 'idle', attempt: 0, transport: 'websocket' };

/**
 * The one transition function of the connection state machine. Returns `state` itself when the event
 * changes nothing, so callers can tell a change by identity.
 */
export function transition(state: ConnectionState, event: ConnectionEvent): ConnectionState {
  const { transport } = state;
  if (state.status === 'closed') {
    if (event.type === 'transport')
      return state.transport === event.transport ? state : { ...state, transport: event.transport };
    return event.type === 'restart'
      ? withLastClose({ status: 'idle', attempt: 0, transport }, state.lastClose)
      : state;
  }
  const wasOpen = state.status === 'open' || state.status === 'reconnecting';
  let next: ConnectionState;
  switch (event.type) {
    case 'transport':
      return state.transport === event.transport ? state : { ...state, transport: event.transport };
    case 'attempt':
      next =
        state.status === 'idle'
          ? { status: 'connecting', attempt: 0, transport }
          : state.status === 'open'
            ? { status: 'reconnecting', attempt: 1, transport }
            : { status: state.status, attempt: state.attempt, transport };
      next = withAttemptError(withLastClose(next, state.lastClose), state.attemptError);
      break;
    case 'retry-scheduled':
      next = wasOpen
        ? {
            status: 'reconnecting',
            attempt: Math.max(1, state.attempt),
            nextRetryAt: event.nextRetryAt,
            transport,
          }
        : { status: 'connecting', attempt: state.attempt, nextRetryAt: event.nextRetryAt, transport };
      next = withAttemptError(withLastClose(next, state.lastClose), state.attemptError);
      break;
    case 'open':
      next = withLastClose({ status: 'open', attempt: 0, transport }, state.lastClose);
      break;
    case 'closed': {
      const attempt = state.status === 'open' ? 1 : state.attempt + 1;
      next = withAttemptError(
        withLastClose(
          wasOpen
            ? { status: 'reconnecting', attempt, transport }
            : { status: 'connecting', attempt, transport },
          event.close ?? state.lastClose,
        ),
        event.attemptError,
      );
      break;
    }
    case 'stop': {
      const authError = event.error && authErrorOfCode(event.error.code);
      next = withLastClose(
        { status: 'closed', attempt: state.attempt, transport },
        event.close ?? state.lastClose,
      );
      if (authError) next.authError = authError;
      if (event.error) next.error = event.error;
      break;
    }
    case 'restart':
      return state;
  }
  return sameState(state, next) ? state : next;
}

function withLastClose<T extends ConnectionState>(state: T, lastClose: CloseInfo | undefined): T {
  return lastClose ? { ...state, lastClose } : state;
}

function withAttemptError<T extends ConnectionState>(state: T, attemptError: string | undefined): T {
  return attemptError ? { ...state, attemptError } : state;
}

function sameState(a: ConnectionState, b: ConnectionState): boolean {
  return (
    a.status === b.status &&
    a.transport === b.transport &&
    a.attempt === b.attempt &&
    a.nextRetryAt === b.nextRetryAt &&
    a.authError === b.authError &&
    a.error === b.error &&
    a.lastClose === b.lastClose &&
    a.attemptError === b.attemptError
  );
}

/**
 * The state in a few words, for error messages (a call that timed out says why nothing came back):
 * "connecting, 3 failed attempts, last close 1006", "open", "closed: upgrade refused with HTTP 404".
 */
export function describeConnectionState(state: ConnectionState): string {
  const over = state.transport === 'http' ? ' over http' : '';
  if (state.status === 'open') return `open${over}`;
  if (state.status === 'closed') return state.error ? `closed: ${state.error.message}` : 'closed';
  const parts: string[] = [state.status];
  if (state.attempt > 0)
    parts.push(
      state.status === 'reconnecting'
        ? `retry ${state.attempt}`
        : `${state.attempt} failed attempt${state.attempt === 1 ? '' : 's'}`,
    );
  if (state.attemptError) parts.push(state.attemptError);
  if (state.lastClose)
    parts.push(
      `last close ${state.lastClose.code}${state.lastClose.reason ? ` "${state.lastClose.reason}"` : ''}`,
    );
  return parts.join(', ') + over;
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
