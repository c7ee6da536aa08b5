import { createHmac, createSecretKey, type KeyObject, timingSafeEqual, webcrypto } from 'node:crypto';
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
 * `cacheMaxEntries: 0` turns the cache off.
 *
 * With a secret, a token in the ordinary shape is accepted by `hmacFastPath` under jose's own rules, with
 * node:crypto's synchronous HMAC (about 13 µs of CPU per token here, against 70 through jose and WebCrypto's
 * async jobs); anything it does not accept, jose decides, so every refusal and its error are jose's.
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
  const fast = options.publicKey ? undefined : hmacFastPath(options, algorithms);
  return async (token) => {
    const remembered = cache.get(token);
    // A copy: callers own what they get (a refresh replaces `connection.user`), the cache keeps its own.
    if (remembered) return { ...remembered };
    const accepted = fast?.(token);
    if (accepted) {
      const user = userFromClaims(accepted);
      cache.set(token, user, accepted);
      return { ...user };
    }
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

/** jose's strict decoder (`lib/buffer_utils.js`): invalid UTF-8 is an error, a leading BOM is dropped. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
/** Three non-empty base64url parts without padding or whitespace (jose's decoder also takes those). */
const COMPACT_JWS = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/;
const HMAC_HASHES: Readonly<Record<string, string>> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };
/** Header parameters that change nothing in jose's verification; any other (`crit`, `b64`…) goes to jose. */
const PLAIN_HEADER_KEYS = new Set(['alg', 'typ', 'kid']);

/**
 * The claims of an HMAC token if jose would accept it now, else undefined (then jose gives the verdict and
 * its error: this path only ever accepts). Each check is jose 6's (`jws_verify.js`, `jwt_claims_set.js`,
 * `validate.js`), restricted where that is simpler: the compact form with exactly three unpadded base64url
 * parts whose length is not 1 mod 4 (atob refuses those), a protected header that is a plain JSON object of
 * `alg`/`typ`/`kid` only, `alg` in the pinned list, the HMAC compared in constant time, a payload that is a
 * plain JSON object in valid UTF-8, `iss`/`aud` when configured, numeric `iat`/`nbf`/`exp`, and the time
 * window in whole seconds with the clock tolerance. The seeded property in `auth.test.ts` compares it with
 * jose on valid, forged and malformed tokens.
 */
function hmacFastPath(
  options: JwtOptions & { clockToleranceSec: number },
  algorithms: readonly string[],
): ((token: string) => JWTPayload | undefined) | undefined {
  const secret =
    typeof options.secret === 'string' ? new TextEncoder().encode(options.secret) : options.secret;
  const tolerance = options.clockToleranceSec;
  // WebCrypto refuses an empty HMAC key, and jose a bad tolerance: leave those to jose.
  if (!secret || secret.byteLength === 0 || !Number.isFinite(tolerance) || tolerance < 0) return undefined;
  const key: KeyObject = createSecretKey(secret);
  const decodeJson = (part: string): unknown => {
    if (part.length % 4 === 1) return undefined;
    try {
      return JSON.parse(strictUtf8.decode(Buffer.from(part, 'base64url')));
    } catch {
      return undefined;
    }
  };
  return (token) => {
    const parts = COMPACT_JWS.exec(token);
    if (!parts) return undefined;
    const [, headerPart, payloadPart, signaturePart] = parts as unknown as [string, string, string, string];
    const header = decodeJson(headerPart);
    if (!isPlainObject(header) || Object.keys(header).some((name) => !PLAIN_HEADER_KEYS.has(name)))
      return undefined;
    const { alg } = header;
    if (typeof alg !== 'string' || !algorithms.includes(alg)) return undefined;
    const hash = HMAC_HASHES[alg];
    if (!hash || signaturePart.length % 4 === 1) return undefined;
    const signature = Buffer.from(signaturePart, 'base64url');
    const expected = createHmac(hash, key).update(`${headerPart}.${payloadPart}`).digest();
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) return undefined;
    const claims = decodeJson(payloadPart);
    if (!isPlainObject(claims)) return undefined;
    if (options.issuer && (!Object.hasOwn(claims, 'iss') || claims.iss !== options.issuer)) return undefined;
    if (options.audience) {
      const { aud } = claims;
      const listed =
        typeof aud === 'string'
          ? aud === options.audience
          : Array.isArray(aud) && aud.includes(options.audience);
      if (!Object.hasOwn(claims, 'aud') || !listed) return undefined;
    }
    const { iat, nbf, exp } = claims;
    for (const value of [iat, nbf, exp])
      if (value !== undefined && typeof value !== 'number') return undefined;
    const nowSec = Math.floor(Date.now() / 1000);
    if (typeof nbf === 'number' && nbf > nowSec + tolerance) return undefined;
    if (typeof exp === 'number' && exp <= nowSec - tolerance) return undefined;
    return claims as JWTPayload;
  };
}

/** jose's `isObject`: a plain object (JSON objects are), not an array or a class instance. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (
    typeof value !== 'object' ||
    value === null ||
    Object.prototype.toString.call(value) !== '[object Object]'
  )
    return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === null || Object.getPrototypeOf(prototype) === null;
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
