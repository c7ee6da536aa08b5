import type { IncomingMessage } from 'node:http';
import { importSPKI, type JWTPayload, jwtVerify } from 'jose';
import type { JwtOptions } from './options.ts';
import { parseRequestTarget, readCookie } from './requestDecoding.ts';

/** The verified identity of a connection, available as `ctx.user` in every procedure. */
export interface AuthUser {
  userId: string;
  /** Display name (`name` claim), defaults to the user id. */
  name: string;
  roles: readonly string[];
  /** When the credential stops being valid, in ms since the epoch; the connection is closed then. */
  expiresAt?: number;
}

/**
 * Finds the token of an upgrade request: `Authorization: Bearer`, then the `token` query parameter (browsers
 * cannot set headers on a WebSocket), then the cookie. The explicit token wins over the cookie because the
 * cookie is shared by every tab, while each tab may be signed in as someone else.
 * Throws a BAD_REQUEST SwitchboardError when the request target or the cookie is malformed.
 */
export function extractToken(req: IncomingMessage, cookieName: string): string | null {
  const header = req.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice('Bearer '.length).trim() || null;
  const query = parseRequestTarget(req.url).searchParams.get('token');
  if (query) return query;
  return readCookie(req.headers.cookie, cookieName);
}

export type TokenVerifier = (token: string) => Promise<AuthUser>;

/**
 * Builds a verifier with the algorithm pinned: HS256 for a secret, asymmetric algorithms for a public key,
 * so neither `alg: none` nor HS/RS key confusion can pass.
 */
export function createTokenVerifier(options: JwtOptions & { clockToleranceSec: number }): TokenVerifier {
  const algorithms = options.algorithms ?? (options.publicKey ? ['RS256', 'ES256', 'EdDSA'] : ['HS256']);
  if (algorithms.includes('none')) throw new TypeError('jwt.algorithms must not include "none"');
  let keyPromise: Promise<Awaited<ReturnType<typeof importSPKI>> | Uint8Array> | undefined;
  const key = () => {
    if (!keyPromise) {
      keyPromise = options.publicKey
        ? importSPKI(options.publicKey, algorithms[0]!)
        : Promise.resolve(
            typeof options.secret === 'string' ? new TextEncoder().encode(options.secret) : options.secret!,
          );
    }
    return keyPromise;
  };
  return async (token) => {
    const { payload } = await jwtVerify(token, await key(), {
      algorithms,
      clockTolerance: options.clockToleranceSec,
      ...(options.issuer ? { issuer: options.issuer } : {}),
      ...(options.audience ? { audience: options.audience } : {}),
    });
    return userFromClaims(payload);
  };
}

function userFromClaims(payload: JWTPayload): AuthUser {
  if (typeof payload.sub !== 'string' || payload.sub.length === 0) throw new Error('token has no subject');
  const name = typeof payload.name === 'string' && payload.name ? payload.name : payload.sub;
  const roles = Array.isArray(payload.roles)
    ? payload.roles.filter((r): r is string => typeof r === 'string')
    : [];
  const user: AuthUser = { userId: payload.sub, name, roles };
  if (typeof payload.exp === 'number') user.expiresAt = payload.exp * 1000;
  return user;
}
