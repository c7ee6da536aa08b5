import type { SwitchboardClient } from '@switchboard/client';
import { SwitchboardProvider } from '@switchboard/react';
import { type ReactNode, useEffect, useState } from 'react';
import { ConnectionBanner } from './ConnectionBanner.tsx';
import { createDemoClient } from './createDemoClient.ts';
import { LoginForm } from './LoginForm.tsx';
import { clearSession, loadSession, onSessionChange, type Session, saveSession } from './session.ts';
import { SignOutContext } from './useSignOut.ts';

export interface DemoShellProps {
  appTitle: string;
  children: (session: Session) => ReactNode;
}

/**
 * The frame of every demo app: sign-in (shared by every app and tab of the browser, see `session.ts`),
 * one client per session behind `SwitchboardProvider`, a header with the user and sign-out, and the
 * connection banner. `useSignOut()` gives the children the header's sign-out.
 */
export function DemoShell({ appTitle, children }: DemoShellProps) {
  const [session, setSession] = useState<Session | null>(loadSession);
  const [client, setClient] = useState<SwitchboardClient | null>(null);

  // Another app or tab signed in or out: follow it. The same token again (a no-op write) keeps the client.
  useEffect(
    () =>
      onSessionChange((next) =>
        setSession((current) => (next && current && next.token === current.token ? current : next)),
      ),
    [],
  );

  useEffect(() => {
    if (!session) return;
    // Created in the effect, not in render, so Strict Mode's mount-unmount-mount closes the first one.
    const created = createDemoClient(session);
    setClient(created);
    return () => {
      setClient(null);
      created.close();
    };
  }, [session]);

  function onLogin(next: Session) {
    saveSession(next);
    setSession(next);
  }

  function onSignOut() {
    clearSession();
    setSession(null);
  }

  if (!session) return <LoginForm appTitle={appTitle} onLogin={onLogin} />;
  if (!client) return null;
  return (
    <SignOutContext.Provider value={onSignOut}>
      <SwitchboardProvider client={client}>
        <header className="app-header">
          <span className="brand">
            Switchboard <span className="muted">/ {appTitle}</span>
          </span>
          <span className="user">
            Signed in as <strong data-testid="current-user">{session.name}</strong>
            <button type="button" className="link" onClick={onSignOut} data-testid="sign-out">
              Sign out
            </button>
          </span>
        </header>
        <ConnectionBanner onSignOut={onSignOut} />
        {children(session)}
      </SwitchboardProvider>
    </SignOutContext.Provider>
  );
}
