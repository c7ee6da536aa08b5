import { createSwitchboardClient, type SwitchboardClient } from '@switchboard/client';
import type { Session } from './session.ts';

/**
 * A client for the demo server on this page's origin: `/ws` over ws(s), and `/auth/check` to learn why an
 * upgrade was refused (browsers cannot read the HTTP status of a failed WebSocket handshake). The default
 * transport, `auto`: where WebSockets are blocked, the apps carry on over `/trpc` (HTTP and Server-Sent
 * Events) and move back to the WebSocket once it gets through.
 * Untyped on purpose: a package never imports an app, so each app names its router where it uses it,
 * with `useSwitchboard<AppRouter>()`.
 */
export function createDemoClient(session: Session): SwitchboardClient {
  const wsProtocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return createSwitchboardClient({
    url: `${wsProtocol}//${location.host}/ws`,
    getToken: async () => session.token,
    authCheckUrl: `${location.origin}/auth/check`,
  });
}
