import { webcrypto } from 'node:crypto';
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
 * Verified tokens remembered per verifier (about 0.5 KiB each for a typical token: the string and its
 * user), so a reconnect storm or a client that reconnects often pays for verification once per token, not
 * once per connect. Least recently used entries go first. Only tokens that verified are kept, so nobody
 * without the secret can fill it.
 */
export const TOKEN_CACHE_MAX_ENTRIES = 10_000;

/**
 * Builds a verifier with the algorithm pinned: HS256 for a secret, asymmetric algorithms for a public key,
 * so neither `alg: none` nor HS/RS key confusion can pass.
 *
 * A token jose accepted is remembered (up to `cacheMaxEntries`, LRU) with its `nbf` and `exp`, and accepted
 * again without a signature check only while jose would still accept it: the same exact string (signature,
 * algorithm, issuer, audience and subject do not change with time) and the same time window, computed as jose
 * computes it (whole seconds, `nbf ≤ now + tolerance`, `exp > now − tolerance`). Failures are never
 * remembered. Like any JWT check, this cannot notice a revoked token before its `exp`: revocation needs
 * short-lived tokens or a changed secret, and a changed secret means a new server (and a new verifier).
 * `cacheMaxEntries: 0` turns the cache off. Every first verification is jose's: a hand-written HMAC check was
 * measured faster (13 against 70 µs of CPU per token) and left out, since a verifier is where a library's
 * scrutiny is worth more than our microseconds.
 */
export function createTokenVerifier(
  options: JwtOptions & { clockToleranceSec: number },
  cacheMaxEntries = TOKEN_CACHE_MAX_ENTRIES,
): TokenVerifier {
  const algorithms = options.algorithms ?? (options.publicKey ? ['RS256', 'ES256', 'EdDSA'] : ['HS256']);
  if (algorithms.includes('none')) throw new TypeError('jwt.algorithms must not include "none"');
  const key = options.publicKey
    ? once(() => importSPKI(options.publicKey!, algorithms[0]!))
    : hmacKeys(
        typeof options.secret === 'string' ? new TextEncoder().encode(options.secret) : options.secret!,
      );
  const cache = new VerifiedTokenCache(cacheMaxEntries, options.clockToleranceSec);
  return async (token) => {
    const remembered = cache.get(token);
    // A copy: callers own what they get (a refresh replaces `connection.user`), the cache keeps its own.
    if (remembered) return { ...remembered };
    // A resolver: jose calls it with the header only after the token's `alg` passed the pinned list.
    const { payload } = await jwtVerify(token, (header) => key(header.alg), {
      algorithms,
      clockTolerance: options.clockToleranceSec,
      ...(options.issuer ? { issuer: options.issuer } : {}),
      ...(options.audience ? { audience: options.audience } : {}),
    });
    const user = userFromClaims(payload);
    cache.set(token, user, payload);
    return { ...user };
  };
}

function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}

/**
 * The HMAC key per algorithm, imported into WebCrypto once. Handing jose the raw secret makes it import
 * the key again for every token (`crypto.subtle.importKey`, an async job of its own); a `CryptoKey` is
 * checked against the token's `alg` (`checkCryptoKey`: HMAC with the matching hash) exactly as strictly.
 * Anything but HS256/384/512 gets the raw secret, so jose refuses it as it always did.
 */
function hmacKeys(
  secret: Uint8Array,
): (alg: string | undefined) => Promise<webcrypto.CryptoKey> | Uint8Array {
  const keys = new Map<string, Promise<webcrypto.CryptoKey>>();
  return (alg) => {
    const hash = alg === undefined ? undefined : /^HS(256|384|512)$/.exec(alg)?.[1];
    if (hash === undefined) return secret;
    let key = keys.get(hash);
    if (!key) {
      key = webcrypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: `SHA-${hash}` }, false, [
        'verify',
      ]);
      keys.set(hash, key);
    }
    return key;
  };
}

interface VerifiedToken {
  user: AuthUser;
  /** `nbf` and `exp` claims in seconds since the epoch, as jose reads them. */
  notBeforeSec: number | undefined;
  expiresSec: number | undefined;
}

/** Token string → verified user, LRU-bounded (a Map iterates in insertion order; a hit is re-inserted). */
class VerifiedTokenCache {
  private readonly entries = new Map<string, VerifiedToken>();

  constructor(
    private readonly maxEntries: number,
    private readonly clockToleranceSec: number,
  ) {}

  get(token: string): AuthUser | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    this.entries.delete(token);
    // jose's own rule (`jwt_claims_set.ts`): now in whole seconds, nbf > now + tolerance and
    // exp <= now - tolerance fail; an entry outside its window is dropped and jose gives the verdict.
    const nowSec = Math.floor(Date.now() / 1000);
    if (entry.notBeforeSec !== undefined && entry.notBeforeSec > nowSec + this.clockToleranceSec)
      return undefined;
    if (entry.expiresSec !== undefined && entry.expiresSec <= nowSec - this.clockToleranceSec)
      return undefined;
    this.entries.set(token, entry);
    return entry.user;
  }

  set(token: string, user: AuthUser, payload: JWTPayload): void {
    if (this.maxEntries <= 0) return;
    this.entries.delete(token);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(token, { user, notBeforeSec: payload.nbf, expiresSec: payload.exp });
  }
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
