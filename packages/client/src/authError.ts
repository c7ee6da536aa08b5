import { ErrorCode, UpgradeStatus } from '@switchboard/protocol';

/**
 * Why the server will not let this client in, when retrying cannot fix it: the credentials must change
 * (`unauthorized`) or the user lacks the right (`forbidden`).
 */
export type AuthError = 'unauthorized' | 'forbidden';

/** The auth error an error code stands for: UNAUTHORIZED and FORBIDDEN are about the credentials. */
export function authErrorOfCode(code: ErrorCode): AuthError | undefined {
  if (code === ErrorCode.UNAUTHORIZED) return 'unauthorized';
  if (code === ErrorCode.FORBIDDEN) return 'forbidden';
  return undefined;
}

/** The auth error an HTTP status (refused upgrade, or the auth check endpoint) stands for. */
export function authErrorOfStatus(status: number | undefined): AuthError | undefined {
  if (status === UpgradeStatus.UNAUTHORIZED) return 'unauthorized';
  if (status === UpgradeStatus.FORBIDDEN) return 'forbidden';
  return undefined;
}

/** What the auth check endpoint said: whether it answered at all, and the auth error its status stands for. */
export interface AuthCheckAnswer {
  /** False on a network failure or timeout: HTTP does not get through either (the server is down). */
  reachable: boolean;
  authError?: AuthError;
}

/**
 * Asks the auth check endpoint whether these credentials are accepted, since a browser only sees
 * "connection failed" when an upgrade is refused. Sends the token as a bearer header and cookies with the
 * request. Never rejects: a network failure or timeout is `{ reachable: false }` (the client keeps
 * retrying); any status is `reachable`, with `authError` for 401/403. An `auto` client also reads
 * `reachable`: upgrades that fail while HTTP answers are blocked on the way (see `ClientOptions.transport`).
 */
export async function checkAuth(request: {
  url: string;
  token: string | undefined;
  fetch: typeof globalThis.fetch;
  timeoutMs: number;
}): Promise<AuthCheckAnswer> {
  const headers: Record<string, string> = {};
  if (request.token) headers.authorization = `Bearer ${request.token}`;
  try {
    const response = await request.fetch(request.url, {
      method: 'GET',
      credentials: 'include',
      cache: 'no-store',
      headers,
      signal: AbortSignal.timeout(request.timeoutMs),
    });
    // The body is not needed; release the connection.
    await response.body?.cancel().catch(() => {});
    const authError = authErrorOfStatus(response.status);
    return authError ? { reachable: true, authError } : { reachable: true };
  } catch {
    return { reachable: false };
  }
}
