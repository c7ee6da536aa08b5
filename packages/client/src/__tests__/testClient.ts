/**
 * Clients as the tests use them: `ws` as the WebSocket, short backoff so reconnects are quick, no `online`
 * source. Close them in `afterEach` (`track(testClient(...), (c) => c.close())`).
 */
import WebSocket from 'ws';
import { createSwitchboardClient, type SwitchboardClient } from '../createSwitchboardClient.ts';
import type { ClientOptions } from '../options.ts';
import type { TestRouter } from './testServer.ts';

export const fastBackoff = { initialDelayMs: 20, maxDelayMs: 200, stableAfterMs: 1000 };

export function testClient(
  options: Partial<ClientOptions> & Pick<ClientOptions, 'url'>,
): SwitchboardClient<TestRouter> {
  return createSwitchboardClient<TestRouter>({
    WebSocket,
    backoff: fastBackoff,
    onlineEvents: null,
    ...options,
  });
}

/** A `getToken` that counts its calls: one call per connection attempt. */
export function countingGetToken(token: () => string) {
  const counter = {
    calls: 0,
    getToken: () => {
      counter.calls++;
      return token();
    },
  };
  return counter;
}
