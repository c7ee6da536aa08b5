/**
 * A real Switchboard server in this process (127.0.0.1, free port) with the demo's chat channel, and
 * clients of it for the hooks. The demo app itself cannot load here: the DOM environment replaces `URL`,
 * which its static-file code hands to `fileURLToPath`. Tokens are HS256 JWTs signed with the fixture's
 * secret. Release both with `close()` (see `useFixture`).
 */
import { createHmac } from 'node:crypto';
import { createSwitchboardClient, type SwitchboardClient } from '@switchboard/client';
import { chatChannel } from '@switchboard/protocol/demo';
import { createSwitchboardServer, initSwitchboard, type ServerOptions } from '@switchboard/server';
import WebSocket from 'ws';

const SECRET = 'react-test-secret-0123456789abcdef0';

const { router, procedure, channelRouter } = initSwitchboard();
export const testRouter = router({
  channel: channelRouter,
  whoami: procedure.query(({ ctx }) => ({ userId: ctx.user.userId })),
});
export type TestRouter = typeof testRouter;
export type TestClient = SwitchboardClient<TestRouter>;

function silentLogger(): NonNullable<ServerOptions['logger']> {
  const noop = () => {};
  const logger = {
    level: 'silent',
    // The server asks before building costly log fields (pino's own method).
    isLevelEnabled: () => false,
    trace: noop,
    debug: noop,
    info: noop,
    warn: noop,
    error: noop,
    fatal: noop,
  };
  return Object.assign(logger, { child: () => logger }) as never;
}

export async function startTestServer() {
  const server = createSwitchboardServer({
    router: testRouter,
    channels: [chatChannel],
    jwt: { secret: SECRET },
    logger: silentLogger(),
    drainTimeoutMs: 50,
    // The DOM's page (happy-dom: http://localhost:3000) is another origin than this server, as an app
    // served from elsewhere is: its `fetch` of the ticket route is cross-origin (CORS), so allow it.
    allowedOrigins: [globalThis.location.origin],
  });
  const { port } = await server.listen(0, '127.0.0.1');
  return {
    server,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    /** Channel subscriptions the server holds now (its own metric). */
    subscriptions: () => server.metrics.stats.subscriptions,
    close: () => server.close(),
  };
}

export function testClient(wsUrl: string, userId: string): TestClient {
  return createSwitchboardClient<TestRouter>({
    url: wsUrl,
    getToken: () => signToken(userId),
    WebSocket,
    backoff: { initialDelayMs: 20, maxDelayMs: 200 },
  });
}

function signToken(userId: string): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({ sub: userId, exp: Math.floor(Date.now() / 1000) + 3600 })}`;
  return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
}
