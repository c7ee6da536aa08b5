import type { Session } from './session.ts';

/**
 * `POST /auth/dev-login` on the app's own origin. Resolves with the session, or rejects with the server's
 * own error message (e.g. "name is over 100 characters") so the form can show it as is.
 */
export async function devLogin(name: string): Promise<Session> {
  let response: Response;
  try {
    response = await fetch('/auth/dev-login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      // The browser keeps the HttpOnly `sb_token` cookie the server sets. Each connection still carries
      // the session's token (`getToken`), which the server prefers to the cookie.
      credentials: 'same-origin',
      body: JSON.stringify({ name }),
    });
  } catch {
    throw new Error('cannot reach the server');
  }
  const body = (await response.json().catch(() => ({}))) as {
    token?: string;
    userId?: string;
    name?: string;
    error?: string;
  };
  if (!response.ok || !body.token || !body.userId) {
    throw new Error(body.error ?? `sign-in failed (HTTP ${response.status})`);
  }
  return { name: body.name ?? name.trim(), userId: body.userId, token: body.token };
}
