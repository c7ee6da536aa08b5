import { createSwitchboardClient, type SwitchboardClient } from '@switchboard/client';
import type { AppRouter } from '@switchboard/demo-server';
import type { Session } from './session.ts';

/** The typed client every demo app uses. */
export type DemoClient = SwitchboardClient<AppRouter>;

/**
 * A client for the demo server on this page's origin: `/ws` over ws(s), and `/auth/check` to learn why an
 * upgrade was refused (browsers cannot read the HTTP status of a failed WebSocket handshake).
 */
export function createDemoClient(session: Session): DemoClient {
  const wsProtocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return createSwitchboardClient<AppRouter>({
    url: `${wsProtocol}//${location.host}/ws`,
    getToken: async () => session.token,
    authCheckUrl: `${location.origin}/auth/check`,
  });
}
