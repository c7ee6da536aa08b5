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
