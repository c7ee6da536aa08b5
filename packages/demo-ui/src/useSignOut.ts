import { createContext, useContext } from 'react';

/** The shell's sign-out, for views that offer "Sign in again" (see `DemoShell`). */
export const SignOutContext = createContext<(() => void) | null>(null);

/**
 * Signs out of every demo app and shows the sign-in form, e.g. for a "Sign in again" button once the
 * server stopped accepting the session. Throws when used outside `DemoShell`, which provides it.
 */
export function useSignOut(): () => void {
  const signOut = useContext(SignOutContext);
  if (!signOut) throw new Error('useSignOut() needs DemoShell above it: render the app inside <DemoShell>');
  return signOut;
}
