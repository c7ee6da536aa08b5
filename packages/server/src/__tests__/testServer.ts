/**
 * Test fixture: a real Switchboard server on an ephemeral port, tokens signed with its secret, and
 * clients (the official `@trpc/client` or a raw `ws` socket). Every fixture closes what it opened;
 * register `fixture.close` in `afterEach`. Add channel families to `testChannels` when a test needs one.
 */
import { defineChannel, ErrorCode, SwitchboardError, transformer } from '@switchboard/protocol';
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import { tracked } from '@trpc/server';
import { SignJWT } from 'jose';
import pino from 'pino';
import WebSocket from 'ws';
import { z } from 'zod';
import type { ServerOptions } from '../options.ts';
import { initSwitchboard } from '../router.ts';
import { createSwitchboardServer, type SwitchboardServer } from '../server.ts';

export const TEST_SECRET = 'test-secret-0123456789abcdef0123456789';

export const chat = defineChannel({
  family: 'chat',
  presence: true,
  events: {
    message: { schema: z.object({ text: z.string().min(1).max(2000) }) },
    typing: { schema: z.object({ typing: z.boolean() }), ephemeral: true },
  },
});
export const inbox = defineChannel({
  family: 'user',
  access: 'owner',
  events: { notice: { schema: z.object({ text: z.string() }), clientPublish: false } },
});
export const testChannels = [chat, inbox];

const { router, procedure, channelRouter, authRouter } = initSwitchboard();
export const testRouter = router({
  channel: channelRouter,
  auth: authRouter,
  whoami: procedure.query(({ ctx }) => ({ userId: ctx.user.userId, name: ctx.user.name })),
  ticks: procedure.input(z.object({ count: z.number().int().max(100) })).subscription(async function* ({
    input,
  }) {
    for (let i = 0; i < input.count; i++) yield i;
  }),
  /** A tracked stream of the numbers after `lastEventId` (tRPC's resume contract), one per `intervalMs`. */
  counter: procedure
    .input(z.object({ intervalMs: z.number().int().min(1).max(1000), lastEventId: z.string().nullish() }))
    .subscription(async function* ({ input, signal }) {
      for (let n = Number(input.lastEventId ?? 0) + 1; !signal?.aborted; n++) {
        await new Promise((resolve) => setTimeout(resolve, input.intervalMs));
        yield tracked(String(n), n);
      }
    }),
  /** A subscription that refuses its input after starting, as `collab.ops` does for a future version. */
  refusing: procedure.subscription(async function* () {
    yield 0;
    throw new SwitchboardError(ErrorCode.BAD_REQUEST, 'version 9 is beyond the current version 1');
  }),
});
export type TestRouter = typeof testRouter;

export interface TestServer {
  server: SwitchboardServer;
  port: number;
  wsUrl: string;
  sign(userId: string, options?: { name?: string; expiresInSec?: number; secret?: string }): Promise<string>;
  close(): Promise<void>;
}

export async function startTestServer(overrides: Partial<ServerOptions> = {}, port = 0): Promise<TestServer> {
  const server = createSwitchboardServer({
    router: testRouter,
    channels: testChannels,
    jwt: { secret: TEST_SECRET },
    logger: pino({ level: process.env.LOG_LEVEL ?? 'silent' }),
    ...overrides,
  });
  const bound = await server.listen(port, '127.0.0.1');
  return {
    server,
    port: bound.port,
    wsUrl: `ws://127.0.0.1:${bound.port}/ws`,
    sign: (userId, options = {}) =>
      new SignJWT({ name: options.name ?? userId })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(userId)
        .setIssuedAt()
        .setExpirationTime(Math.floor(Date.now() / 1000) + (options.expiresInSec ?? 3600))
        .sign(new TextEncoder().encode(options.secret ?? TEST_SECRET)),
    close: () => server.close(),
  };
}

/** The official tRPC client over the official wsLink, as users run it. */
export function connectTrpc(url: string, token: string, options: { retryDelayMs?: () => number } = {}) {
  const wsClient = createWSClient({
    url: `${url}?token=${token}`,
    WebSocket: WebSocket as never,
    retryDelayMs: options.retryDelayMs ?? (() => 50),
  });
  const trpc = createTRPCClient<TestRouter>({ links: [wsLink({ client: wsClient, transformer })] });
  return { trpc, wsClient, close: () => wsClient.close() };
}

/** A raw socket for frames @trpc/client would never send. Resolves once open. */
export function connectRaw(url: string, token: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url}?token=${token}`);
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves with the close code and reason the client received. */
export function closeOf(socket: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) =>
    socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
}

/** Resolves with the HTTP status of a refused upgrade (the socket never opens). */
export function upgradeStatusOf(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    socket.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('open', () => {
      socket.terminate();
      reject(new Error('upgrade unexpectedly succeeded'));
    });
    socket.once('error', () => {});
  });
}

/** A promise with its resolve function, for awaiting events instead of sleeping. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Resolves when `condition()` holds, polling every 5 ms; rejects after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
