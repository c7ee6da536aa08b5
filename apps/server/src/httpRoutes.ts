import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TokenBucket } from '@switchboard/server';
import {
  createTokenBucket,
  extractToken,
  parseRequestTarget,
  type SwitchboardServer,
  type TokenVerifier,
} from '@switchboard/server';
import { clientAddress } from './clientAddress.ts';
import { DEV_TOKEN_TTL_SEC, devLogin } from './devLogin.ts';
import { FAVICON_SVG, indexPage, serveApp } from './staticApps.ts';

/** Largest dev-login request body, in bytes. */
const MAX_LOGIN_BODY_BYTES = 4096;
/** Dev-login requests per minute per client address (burst 10). */
const LOGIN_RATE_PER_MINUTE = 30;
/** Client addresses with a login bucket kept at once; past it the map starts over (bounded memory). */
const MAX_LOGIN_BUCKETS = 10_000;
const COOKIE_NAME = 'sb_token';

export interface HttpRouteDeps {
  server: () => SwitchboardServer;
  verifyToken: TokenVerifier;
  authSecret: string;
  appsDir: string;
  secureCookies: boolean;
  /** Whether `POST /auth/dev-login` hands out tokens (config `devLogin`: off in production unless opted in). */
  devLogin: boolean;
  /** Proxies trusted to set `X-Forwarded-For` for the login rate limit (config `trustProxyHops`). */
  trustProxyHops: number;
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res
    .writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      'cache-control': 'no-store',
      ...headers,
    })
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

function favicon(res: ServerResponse) {
  res
    .writeHead(200, {
      'content-type': 'image/svg+xml',
      'content-length': Buffer.byteLength(FAVICON_SVG),
      'cache-control': 'public, max-age=86400',
    })
    .end(FAVICON_SVG);
}

interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  deps: HttpRouteDeps;
  server: SwitchboardServer;
  loginAllowed(address: string): boolean;
}

interface Route {
  /** Methods served; others get 405. HEAD is served wherever GET is (Node drops the body). */
  methods: readonly string[];
  handle(context: RouteContext): void | Promise<void>;
}

/** The fixed routes; the apps under `/<app>/` are served after these (see `serveApp`). */
const ROUTES = new Map<string, Route>(
  Object.entries({
    '/healthz': { methods: ['GET'], handle: ({ res }) => json(res, 200, { status: 'ok' }) },
    '/readyz': {
      methods: ['GET'],
      handle({ res, server }) {
        const { status, statusReason } = server.broker;
        // Draining first: a server shutting down stays unready whatever its broker does.
        const reason = !server.accepting
          ? 'shutting down'
          : status === 'ready'
            ? undefined
            : (statusReason ?? `broker ${status}`);
        json(
          res,
          reason === undefined ? 200 : 503,
          reason === undefined
            ? { status: 'ready', broker: status }
            : { status: 'unavailable', broker: status, reason },
        );
      },
    },
    '/metrics': {
      methods: ['GET'],
      async handle({ res, server }) {
        const body = await server.metrics.registry.metrics();
        res.writeHead(200, { 'content-type': server.metrics.registry.contentType }).end(body);
      },
    },
    '/auth/dev-login': {
      methods: ['POST'],
      async handle({ req, res, deps, loginAllowed }) {
        if (!deps.devLogin) {
          return json(res, 403, {
            error:
              'dev login is off in production: set DEV_LOGIN=1 to allow anyone to sign in under any name',
          });
        }
        if (!loginAllowed(clientAddress(req, deps.trustProxyHops))) {
          return json(res, 429, { error: 'too many login attempts' });
        }
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
        json(
          res,
          200,
          { token: result.token, userId: result.userId, name: result.name },
          { 'set-cookie': cookie },
        );
      },
    },
    '/auth/check': {
      methods: ['GET'],
      async handle({ req, res, deps }) {
        // A malformed cookie or target throws BAD_REQUEST here: the request boundary answers 400.
        const token = extractToken(req, COOKIE_NAME);
        if (!token) return json(res, 401, { error: 'no credentials' });
        try {
          const user = await deps.verifyToken(token);
          json(res, 200, {
            ok: true,
            userId: user.userId,
            name: user.name,
            expiresAt: user.expiresAt ?? null,
          });
        } catch {
          json(res, 401, { error: 'invalid or expired credentials' });
        }
      },
    },
    '/favicon.svg': { methods: ['GET'], handle: ({ res }) => favicon(res) },
    '/favicon.ico': { methods: ['GET'], handle: ({ res }) => favicon(res) },
    '/': {
      methods: ['GET'],
      handle: ({ res }) =>
        void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(indexPage()),
    },
  } satisfies Record<string, Route>),
);

/** Paths of the fixed routes (the request-boundary fuzzer targets each of them). */
export const HTTP_ROUTE_PATHS: readonly string[] = [...ROUTES.keys()];

/**
 * `/healthz`, `/readyz`, `/metrics`, `/auth/*`, the index page and the built apps. Errors are not caught
 * here: the server's request boundary answers them (a BAD_REQUEST from a malformed target, cookie or path
 * as 400, anything else as 500) and logs them.
 */
export function createHttpRoutes(deps: HttpRouteDeps) {
  const loginBuckets = new Map<string, TokenBucket>();
  const loginAllowed = (address: string) => {
    let bucket = loginBuckets.get(address);
    if (!bucket) {
      if (loginBuckets.size >= MAX_LOGIN_BUCKETS) loginBuckets.clear();
      loginBuckets.set(address, (bucket = createTokenBucket(LOGIN_RATE_PER_MINUTE / 60, 10)));
    }
    return bucket.take();
  };

  return async function onHttpRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { pathname } = parseRequestTarget(req.url);
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const route = ROUTES.get(pathname);
    if (route) {
      if (!route.methods.includes(method)) {
        return json(
          res,
          405,
          { error: `use ${route.methods.join(', ')}` },
          { allow: route.methods.join(', ') },
        );
      }
      return route.handle({ req, res, deps, server: deps.server(), loginAllowed });
    }
    if (method === 'GET' && (await serveApp(deps.appsDir, pathname, res))) return;
    json(res, 404, { error: 'not found' });
  };
}
