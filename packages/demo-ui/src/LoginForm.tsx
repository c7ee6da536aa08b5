import { type FormEvent, useState } from 'react';
import { devLogin } from './devLogin.ts';
import { errorMessage } from './errorMessage.ts';
import type { Session } from './session.ts';

/** Pick a name, get a dev token. Errors are the server's own words, shown beside the field. */
export function LoginForm({ appTitle, onLogin }: { appTitle: string; onLogin: (session: Session) => void }) {
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onLogin(await devLogin(name));
    } catch (cause) {
      setError(errorMessage(cause));
      setBusy(false);
    }
  }

  return (
    <main className="login">
      <form className="card login-card" onSubmit={onSubmit} data-testid="login-form" noValidate>
        <h1>{appTitle}</h1>
        <p className="muted">
          Pick any name to join: every demo app signs you in. Open a private window to join as a second
          person.
        </p>
        <label htmlFor="login-name">Your name</label>
        <input
          id="login-name"
          data-testid="login-name"
          value={name}
          onChange={(event) => setName(event.target.value)}
          autoComplete="nickname"
          aria-invalid={error !== null}
          aria-describedby={error ? 'login-error' : undefined}
        />
        {error && (
          <p id="login-error" className="error" role="alert" data-testid="login-error">
            {error}
          </p>
        )}
        <button type="submit" data-testid="login-submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
