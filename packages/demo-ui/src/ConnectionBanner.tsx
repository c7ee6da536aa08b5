import type { ConnectionState } from '@switchboard/client';
import { useConnectionState, useSwitchboard } from '@switchboard/react';
import { useNow } from './useNow.ts';
import { useOnline } from './useOnline.ts';

type BannerTone = 'info' | 'warn' | 'error';

function describe(
  state: ConnectionState,
  online: boolean,
  now: number,
): { tone: BannerTone; text: string; kind: string } | null {
  if (state.status === 'closed' && state.authError) {
    const text =
      state.authError === 'forbidden'
        ? 'Not allowed to connect.'
        : 'Your session is no longer valid. Sign in again.';
    return { tone: 'error', text, kind: state.authError };
  }
  if (!online)
    return {
      tone: 'error',
      text: 'You are offline. Waiting for the network…',
      kind: 'offline',
    };
  switch (state.status) {
    case 'connecting':
    case 'reconnecting': {
      // The first attempt of a fresh page is not worth a banner; every retry is.
      if (state.status === 'connecting' && state.attempt === 0) return null;
      const lost = state.status === 'reconnecting' ? 'Connection lost. ' : 'Cannot reach the server. ';
      if (state.nextRetryAt === undefined || state.nextRetryAt <= now) {
        return { tone: 'warn', text: `${lost}Reconnecting…`, kind: state.status };
      }
      const seconds = Math.ceil((state.nextRetryAt - now) / 1000);
      return { tone: 'warn', text: `${lost}Reconnecting in ${seconds} s…`, kind: state.status };
    }
    case 'closed':
      // A refusal the client stopped on (wrong URL, a request the server keeps refusing) says why.
      return {
        tone: 'error',
        text: state.error ? `Disconnected: ${state.error.message}.` : 'Disconnected.',
        kind: 'closed',
      };
    default:
      return null;
  }
}

/**
 * Says why the app is not live: reconnecting (with a countdown), offline, unauthorized, or stopped after a
 * refusal (with the reason and a Reconnect button). Hidden while the connection is open.
 */
export function ConnectionBanner({ onSignOut }: { onSignOut: () => void }) {
  const state = useConnectionState();
  const client = useSwitchboard();
  const online = useOnline();
  const now = useNow(250, state.nextRetryAt !== undefined);
  const banner = describe(state, online, now);
  return (
    <div
      className="banner-slot"
      aria-live="polite"
      data-testid="connection-status"
      data-status={state.status}
      data-transport={state.transport}
    >
      {banner && (
        <div
          className={`banner banner-${banner.tone}`}
          role="status"
          data-testid="connection-banner"
          data-kind={banner.kind}
        >
          <span>{banner.text}</span>
          {banner.kind === 'unauthorized' && (
            <button type="button" className="link" onClick={onSignOut}>
              Sign in again
            </button>
          )}
          {banner.kind === 'closed' && state.error && (
            <button type="button" className="link" onClick={() => client.reconnect()}>
              Reconnect
            </button>
          )}
        </div>
      )}
    </div>
  );
}
