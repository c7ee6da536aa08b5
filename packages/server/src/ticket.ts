import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AuthUser } from './auth.ts';

/** Issues and redeems connection tickets: short-lived, single-use credentials that may go into a URL. */
export interface TicketIssuer {
  /** A ticket for `user`, valid until `expiresAt` (ms since the epoch) or its first use. */
  issue(user: AuthUser): { ticket: string; expiresAt: number };
  /** The ticket's user, once; null when it is malformed, forged, expired or already used. */
  redeem(ticket: string): AuthUser | null;
}

/** Keeps HMAC keys of tickets apart from any other use of the same secret (a ticket is never a valid JWT). */
const KEY_LABEL = 'switchboard connection ticket v1';

interface TicketClaims {
  /** userId, name, roles, the token's own expiry. */
  u: string;
  n: string;
  r: readonly string[];
  x?: number;
  /** Ticket expiry, ms since the epoch. */
  e: number;
  /** Nonce: what single use is tracked by. */
  j: string;
}

/**
 * Why tickets exist: a long-lived JWT in `?token=` ends up in proxy access logs and in the browser console
 * (Chromium prints the whole URL of a failed WebSocket). A ticket is useless after ~30 s or one use.
 *
 * A ticket is `base64url(claims).base64url(HMAC-SHA256)`, so any instance that shares the key verifies it
 * without shared state: with `jwt.secret`, every instance derives the same key from it, and a ticket issued by
 * one instance opens a connection on another (behind a round-robin proxy). Without a shared secret (public-key
 * JWTs, custom `authenticate`), each instance draws its own key and tickets work on the issuing instance only.
 * Single use is enforced per instance (used nonces are kept until they expire): across N instances a stolen
 * ticket could be replayed at most N-1 more times within its lifetime.
 */
export function createTicketIssuer(options: {
  ttlMs: number;
  secret?: string | Uint8Array | undefined;
  now?: () => number;
}): TicketIssuer {
  const now = options.now ?? Date.now;
  const key = options.secret
    ? createHmac('sha256', options.secret).update(KEY_LABEL).digest()
    : randomBytes(32);
  /** Used nonces and when they expire: a nonce past its expiry is refused by the expiry check anyway. */
  const used = new Map<string, number>();
  let nextSweepAt = 0;

  function sign(payload: string): Buffer {
    return createHmac('sha256', key).update(payload).digest();
  }

  function sweep(at: number) {
    if (at < nextSweepAt) return;
    nextSweepAt = at + options.ttlMs;
    for (const [nonce, expiresAt] of used) if (expiresAt <= at) used.delete(nonce);
  }

  return {
    issue(user) {
      const at = now();
      const expiresAt = Math.min(at + options.ttlMs, user.expiresAt ?? Number.POSITIVE_INFINITY);
      const claims: TicketClaims = {
        u: user.userId,
        n: user.name,
        r: user.roles,
        e: expiresAt,
        j: randomBytes(12).toString('base64url'),
      };
      if (user.expiresAt !== undefined) claims.x = user.expiresAt;
      const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
      return { ticket: `${payload}.${sign(payload).toString('base64url')}`, expiresAt };
    },
    redeem(ticket) {
      const at = now();
      sweep(at);
      const dot = ticket.indexOf('.');
      if (dot <= 0 || ticket.length > 4096) return null;
      const payload = ticket.slice(0, dot);
      const signature = Buffer.from(ticket.slice(dot + 1), 'base64url');
      // Only the canonical spelling: base64url ignores the unused bits of a last character, and the test of
      // "an altered ticket is refused" should not depend on which bits were altered.
      if (signature.toString('base64url') !== ticket.slice(dot + 1)) return null;
      const expected = sign(payload);
      if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) return null;
      // Signed by us, so well-formed; parsed defensively all the same (the key may be shared).
      let claims: TicketClaims;
      try {
        claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as TicketClaims;
      } catch {
        return null;
      }
      if (typeof claims.e !== 'number' || claims.e <= at || used.has(claims.j)) return null;
      used.set(claims.j, claims.e);
      const user: AuthUser = { userId: claims.u, name: claims.n, roles: claims.r };
      if (claims.x !== undefined) user.expiresAt = claims.x;
      return user;
    },
  };
}
