/** Who is signed in to a demo app, kept in sessionStorage so a reload keeps the tab signed in. */
export interface Session {
  name: string;
  userId: string;
  token: string;
}

const STORAGE_KEY = 'switchboard.session';

export function loadSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const value = JSON.parse(raw) as Partial<Session>;
    if (
      typeof value.name !== 'string' ||
      typeof value.userId !== 'string' ||
      typeof value.token !== 'string'
    ) {
      return null;
    }
    return { name: value.name, userId: value.userId, token: value.token };
  } catch {
    // Storage disabled or a corrupt entry: the user signs in again.
    return null;
  }
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
}

export function clearSession(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

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
      // The token travels with each connection (`getToken`). The cookie the server also sets would be
      // shared by every tab, and the server prefers it to the token: two tabs signed in as two users
      // would become the last one to sign in. `omit` keeps the browser from storing it.
      credentials: 'omit',
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
