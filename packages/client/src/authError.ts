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

/**
 * Asks the auth check endpoint whether these credentials are accepted, since a browser only sees
 * "connection failed" when an upgrade is refused. Sends the token as a bearer header and cookies with the
 * request. Resolves with the auth error, or `undefined` when the answer does not say "refused" (including
 * network failures and timeouts: then the client keeps retrying).
 */
export async function checkAuth(request: {
  url: string;
  token: string | undefined;
  fetch: typeof globalThis.fetch;
  timeoutMs: number;
}): Promise<AuthError | undefined> {
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
    return authErrorOfStatus(response.status);
  } catch {
    return undefined;
  }
}
