import { trpcErrorCode } from './errors.ts';
import type { ClientOptions } from './options.ts';
import { tokenExpiresAtMs } from './tokenExpiry.ts';

/**
 * In-band token refresh: the server closes a connection whose token expires (close code 4501), so a
 * while before that the client gets a new token from `getToken()` and hands it over with the
 * `auth.refresh` mutation, and the connection stays open.
 *
 * When `getToken()` returns a token that expires no later than the current one (a cache that renews
 * late), it is asked again halfway to expiry, while that is `MIN_RETRY_DELAY_MS` away or more. Any
 * other failure falls back to what happens without refresh: the server closes the connection at expiry.
 * That covers an app without `auth.refresh` (then no later connection of this client tries again), a
 * token the server refuses, and a `getToken()` that throws or returns nothing.
 */
export interface TokenRefresh {
  /** A socket opened with this token (`undefined`: none, e.g. cookie auth); plans its refresh. */
  socketOpened(token: string | undefined): void;
  /** That socket is gone, or the client stopped: nothing is planned any more. */
  socketClosed(): void;
}

export interface TokenRefreshDeps {
  refreshBeforeExpiryMs: number;
  getToken: NonNullable<ClientOptions['getToken']>;
  /** Sends the new token over the current connection (`auth.refresh`); `signal` withdraws it. */
  refresh(token: string, signal: AbortSignal): Promise<unknown>;
}

/** `setTimeout` fires at once for delays past 2³¹−1 ms; longer waits are re-armed in steps. */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** Below this, asking `getToken()` again for a later token is not worth it: let the connection end. */
const MIN_RETRY_DELAY_MS = 1_000;

/**
 * How long to wait before refreshing a token that expires at `expiresAtMs`: until `refreshBeforeExpiryMs`
 * before expiry, or, for a token that lives less than twice that, until half of what is left, so short
 * lifetimes still get a refresh and back-to-back refreshes stay apart. 0 when it is already due.
 */
export function refreshDelayMs(expiresAtMs: number, nowMs: number, refreshBeforeExpiryMs: number): number {
  const remainingMs = expiresAtMs - nowMs;
  if (remainingMs <= 0) return 0;
  return Math.ceil(remainingMs - Math.min(refreshBeforeExpiryMs, remainingMs / 2));
}

export function createTokenRefresh(deps: TokenRefreshDeps): TokenRefresh {
  /** Bumped for every socket event: work planned for an earlier socket sees the change and stops. */
  let generation = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: AbortController | undefined;
  /** The server has no `auth.refresh` procedure: no connection of this client will refresh. */
  let unsupported = false;

  function cancel() {
    generation++;
    clearTimeout(timer);
    timer = undefined;
    // tRPC would send a request still queued on the next connection, which has a token of its own.
    inFlight?.abort();
    inFlight = undefined;
  }

  /** Refreshes the token that expires at `expiresAtMs` when it is due. */
  function plan(expiresAtMs: number, planned: number) {
    const delayMs = refreshDelayMs(expiresAtMs, Date.now(), deps.refreshBeforeExpiryMs);
    timer = setTimeout(
      () => {
        timer = undefined;
        if (planned !== generation) return;
        if (delayMs > MAX_TIMER_DELAY_MS) plan(expiresAtMs, planned);
        else void refresh(expiresAtMs, planned);
      },
      Math.min(delayMs, MAX_TIMER_DELAY_MS),
    );
  }

  async function refresh(expiresAtMs: number, planned: number) {
    try {
      const next = (await deps.getToken()) ?? undefined;
      if (planned !== generation || !next) return;
      const nextExpiresAtMs = tokenExpiresAtMs(next);
      if (nextExpiresAtMs !== undefined && nextExpiresAtMs <= expiresAtMs) {
        // Past the margin, the next delay is half of what is left.
        if (refreshDelayMs(expiresAtMs, Date.now(), deps.refreshBeforeExpiryMs) >= MIN_RETRY_DELAY_MS)
          plan(expiresAtMs, planned);
        return;
      }
      inFlight = new AbortController();
      await deps.refresh(next, inFlight.signal);
      if (planned === generation && nextExpiresAtMs !== undefined) plan(nextExpiresAtMs, planned);
    } catch (error) {
      if (trpcErrorCode(error) === 'NOT_FOUND') unsupported = true;
    }
  }

  return {
    socketOpened(token) {
      cancel();
      const expiresAtMs = token === undefined ? undefined : tokenExpiresAtMs(token);
      if (!unsupported && expiresAtMs !== undefined) plan(expiresAtMs, generation);
    },
    socketClosed: cancel,
  };
}
