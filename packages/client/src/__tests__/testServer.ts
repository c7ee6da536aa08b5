/**
 * Test fixture: a real Switchboard server in this process, on 127.0.0.1 and a free port (or a given one,
 * to restart on the same port), with the demo's chat channels and a `whoami` query. Tokens are HS256 JWTs
 * signed with the fixture's secret. `close()` releases everything; call it from `afterEach` (see `track`).
 * To share history across a restart, pass the same broker to both servers.
 */
import { createHmac } from 'node:crypto';
import { chatChannel, userChannel } from '@switchboard/protocol/demo';
import {
  type Broker,
  createSwitchboardServer,
  initSwitchboard,
  type ServerOptions,
  type SwitchboardServer,
} from '@switchboard/server';

export const TEST_SECRET = 'client-test-secret-0123456789abcdef';

const { router, procedure, channelRouter, authRouter } = initSwitchboard();
export const testRouter = router({
  channel: channelRouter,
  auth: authRouter,
  whoami: procedure.query(({ ctx }) => ({ userId: ctx.user.userId, name: ctx.user.name })),
});
export type TestRouter = typeof testRouter;

/** The same app without the built-in `auth` router: no in-band token refresh. */
export const routerWithoutAuth = router({
  channel: channelRouter,
  whoami: procedure.query(({ ctx }) => ({ userId: ctx.user.userId, name: ctx.user.name })),
});

/** A logger that drops everything: the server's pino logger is noise in test output. */
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

export interface TestServer {
  server: SwitchboardServer;
  port: number;
  wsUrl: string;
  httpUrl: string;
  /** Number of channel subscriptions the server holds now (its own metric). */
  subscriptions(): number;
  /** Kills every connection without a close frame, as a crashed network would. */
  dropConnections(): void;
  close(): Promise<void>;
}

export async function startTestServer(
  options: {
    port?: number;
    broker?: Broker;
    router?: typeof testRouter | typeof routerWithoutAuth;
    overrides?: Partial<ServerOptions>;
  } = {},
): Promise<TestServer> {
  const server = createSwitchboardServer({
    router: options.router ?? testRouter,
    channels: [chatChannel, userChannel],
    jwt: { secret: TEST_SECRET, clockToleranceSec: 0 },
    logger: silentLogger(),
    drainTimeoutMs: 50,
    ...(options.broker ? { broker: options.broker } : {}),
    ...options.overrides,
  });
  const { port } = await server.listen(options.port ?? 0, '127.0.0.1');
  return {
    server,
    port,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    httpUrl: `http://127.0.0.1:${port}`,
    subscriptions: () => server.metrics.stats.subscriptions,
    dropConnections() {
      for (const connection of server.registry.all()) connection.socket.terminate();
    },
    close: () => server.close(),
  };
}

/** An HS256 JWT for `userId`, valid for `expiresInSec` (negative: already expired). */
export function signToken(
  userId: string,
  options: { name?: string; expiresInSec?: number; secret?: string } = {},
): string {
  const now = Math.floor(Date.now() / 1000);
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({
    sub: userId,
    name: options.name ?? userId,
    iat: now,
    exp: now + (options.expiresInSec ?? 3600),
  })}`;
  const signature = createHmac('sha256', options.secret ?? TEST_SECRET)
    .update(body)
    .digest('base64url');
  return `${body}.${signature}`;
}

/** Resolves when `condition()` holds, checking every 5 ms; rejects after `timeoutMs`. */
export async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
