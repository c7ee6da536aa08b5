import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TokenBucket } from '@switchboard/server';
import {
  createTokenBucket,
  extractToken,
  type SwitchboardServer,
  type TokenVerifier,
} from '@switchboard/server';
import { DEV_TOKEN_TTL_SEC, devLogin } from './devLogin.ts';
import { indexPage, serveApp } from './staticApps.ts';

/** Largest dev-login request body, in bytes. */
const MAX_LOGIN_BODY_BYTES = 4096;
/** Dev-login requests per minute per client address (burst 10). */
const LOGIN_RATE_PER_MINUTE = 30;
const COOKIE_NAME = 'sb_token';

export interface HttpRouteDeps {
  server: () => SwitchboardServer;
  verifyToken: TokenVerifier;
  authSecret: string;
  appsDir: string;
  secureCookies: boolean;
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res
    .writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers })
    .end(text);
}

async function readBody(req: IncomingMessage): Promise<string | null> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_LOGIN_BODY_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** `/healthz`, `/readyz`, `/metrics`, `/auth/*`, the index page and the built apps. */
export function createHttpRoutes(deps: HttpRouteDeps) {
  const loginBuckets = new Map<string, TokenBucket>();
  const loginAllowed = (address: string) => {
    let bucket = loginBuckets.get(address);
    if (!bucket) {
      if (loginBuckets.size > 10_000) loginBuckets.clear();
      loginBuckets.set(address, (bucket = createTokenBucket(LOGIN_RATE_PER_MINUTE / 60, 10)));
    }
    return bucket.take();
  };

  return async function onHttpRequest(req: IncomingMessage, res: ServerResponse) {
    const { pathname } = new URL(req.url ?? '/', 'http://localhost');
    const server = deps.server();
    try {
      if (req.method === 'GET' && pathname === '/healthz') return json(res, 200, { status: 'ok' });
      if (req.method === 'GET' && pathname === '/readyz') {
        const ready = server.accepting && server.broker.status === 'ready';
        return json(res, ready ? 200 : 503, {
          status: ready ? 'ready' : 'unavailable',
          broker: server.broker.status,
        });
      }
      if (req.method === 'GET' && pathname === '/metrics') {
        const body = await server.metrics.registry.metrics();
        res.writeHead(200, { 'content-type': server.metrics.registry.contentType }).end(body);
        return;
      }
      if (pathname === '/auth/dev-login') {
        if (req.method !== 'POST') return json(res, 405, { error: 'use POST' }, { allow: 'POST' });
        if (!loginAllowed(req.socket.remoteAddress ?? ''))
          return json(res, 429, { error: 'too many login attempts' });
        const raw = await readBody(req);
        if (raw === null) return json(res, 413, { error: 'body too large' });
        let body: unknown;
        try {
          body = JSON.parse(raw);
        } catch {
          return json(res, 400, { error: 'body must be JSON like {"name":"alice"}' });
        }
        const result = await devLogin(body, deps.authSecret);
        if (!result.ok) return json(res, 400, { error: result.error });
        const cookie = `${COOKIE_NAME}=${result.token}; HttpOnly; SameSite=Lax; Path=/; Max-Age=${DEV_TOKEN_TTL_SEC}${deps.secureCookies ? '; Secure' : ''}`;
        return json(
          res,
          200,
          { token: result.token, userId: result.userId, name: result.name },
          { 'set-cookie': cookie },
        );
      }
      if (req.method === 'GET' && pathname === '/auth/check') {
        const token = extractToken(req, COOKIE_NAME);
        if (!token) return json(res, 401, { error: 'no credentials' });
        try {
          const user = await deps.verifyToken(token);
          return json(res, 200, {
            ok: true,
            userId: user.userId,
            name: user.name,
            expiresAt: user.expiresAt ?? null,
          });
        } catch {
          return json(res, 401, { error: 'invalid or expired credentials' });
        }
      }
      if (req.method === 'GET' && pathname === '/') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(indexPage());
        return;
      }
      if (req.method === 'GET' && (await serveApp(deps.appsDir, req, res))) return;
      json(res, 404, { error: 'not found' });
    } catch (error) {
      if (!res.headersSent) json(res, 500, { error: 'internal error' });
      throw error;
    }
  };
}
