/** Who is signed in to the demo apps. */
export interface Session {
  name: string;
  userId: string;
  token: string;
}

/**
 * One sign-in for the whole browser, as people expect of one site: chat, dashboard and collab are served
 * from one origin and read the same `localStorage` entry, so signing in on one app signs every app (and
 * every tab) in, and signing out signs them all out. Kept in `localStorage` rather than read from the
 * HttpOnly `sb_token` cookie, which scripts cannot read; the cookie stays a fallback credential for the
 * upgrade. To chat with yourself as two people, use a second browser or a private window.
 */
const STORAGE_KEY = 'switchboard.session';

function parse(raw: string | null): Session | null {
  if (!raw) return null;
  try {
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
    // A corrupt entry: the user signs in again.
    return null;
  }
}

export function loadSession(): Session | null {
  try {
    return parse(localStorage.getItem(STORAGE_KEY));
  } catch {
    // Storage disabled: the user signs in again.
    return null;
  }
}

export function saveSession(session: Session): void {
  localStorage.setItem(STORAGE_KEY, JSON.stringify(session));
}

export function clearSession(): void {
  localStorage.removeItem(STORAGE_KEY);
}

/**
 * Calls `listener` when another tab or app signs in (with the session) or out (with null). The browser
 * fires `storage` events in every other document of the origin, never in the one that wrote.
 */
export function onSessionChange(listener: (session: Session | null) => void): () => void {
  const windowOnStorage = (event: StorageEvent) => {
    // `key` is null when another document cleared all of storage.
    if (event.key !== STORAGE_KEY && event.key !== null) return;
    listener(parse(event.newValue));
  };
  window.addEventListener('storage', windowOnStorage);
  return () => window.removeEventListener('storage', windowOnStorage);
}
