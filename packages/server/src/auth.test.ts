import fc from 'fast-check';
import { SignJWT } from 'jose';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type AuthUser, createTokenVerifier } from './auth.ts';

const SECRET = 'auth-test-secret-with-at-least-32-bytes';
const OTHER_SECRET = 'another-secret-also-at-least-32-bytes-long';
const TOLERANCE_SEC = 5;
/** 2030-01-01T00:00:00Z: a fixed start, so every seed replays the same claims against the same clock. */
const START_MS = Date.UTC(2030, 0, 1);
const encode = (text: string) => new TextEncoder().encode(text);
const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

interface TokenSpec {
  kind: 'valid' | 'wrongSecret' | 'algNone' | 'hs512' | 'noSubject' | 'wrongIssuer';
  /** `exp` and `nbf` relative to START_MS, in seconds (undefined: claim absent). */
  expSec: number | undefined;
  nbfSec: number | undefined;
  user: string;
}

/** Signs (or forges) one token as `spec` says, with the claims at fixed epoch seconds. */
async function tokenFor(spec: TokenSpec): Promise<string> {
  const startSec = START_MS / 1000;
  const claims: Record<string, unknown> = { name: spec.user, iss: 'switchboard' };
  if (spec.kind !== 'noSubject') claims.sub = spec.user;
  if (spec.kind === 'wrongIssuer') claims.iss = 'someone-else';
  if (spec.expSec !== undefined) claims.exp = startSec + spec.expSec;
  if (spec.nbfSec !== undefined) claims.nbf = startSec + spec.nbfSec;
  if (spec.kind === 'algNone') return `${base64url({ alg: 'none' })}.${base64url(claims)}.`;
  const alg = spec.kind === 'hs512' ? 'HS512' : 'HS256';
  return new SignJWT(claims)
    .setProtectedHeader({ alg })
    .sign(encode(spec.kind === 'wrongSecret' ? OTHER_SECRET : SECRET));
}

const options = { secret: SECRET, issuer: 'switchboard', clockToleranceSec: TOLERANCE_SEC };

/** The verdict as data, so the cached and the uncached verifier can be compared with `toEqual`. */
async function verdict(verify: (token: string) => Promise<AuthUser>, token: string) {
  try {
    return { accepted: await verify(token) };
  } catch (error) {
    return { refused: (error as Error).name };
  }
}

describe('createTokenVerifier', () => {
  beforeEach(() => {
    // Only Date: jose reads the clock through `new Date()`, while WebCrypto's promises must still settle.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(START_MS);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('checks the signature of a token once while it stays valid', async () => {
    const verify = createTokenVerifier(options);
    const token = await tokenFor({ kind: 'valid', expSec: 3600, nbfSec: undefined, user: 'alice' });
    const subtleVerify = vi.spyOn(crypto.subtle, 'verify');
    const first = await verify(token);
    const second = await verify(token);
    expect(second).toEqual(first);
    expect(first).toMatchObject({ userId: 'alice', expiresAt: START_MS + 3_600_000 });
    expect(subtleVerify).toHaveBeenCalledTimes(1);
  });

  it('refuses a remembered token once it expired (after the clock tolerance), as jose does', async () => {
    const verify = createTokenVerifier(options);
    const token = await tokenFor({ kind: 'valid', expSec: 60, nbfSec: undefined, user: 'alice' });
    await expect(verify(token)).resolves.toMatchObject({ userId: 'alice' });
    // exp = start + 60 s is still accepted while now − 5 s < exp, i.e. up to start + 64.999 s.
    vi.setSystemTime(START_MS + 64_999);
    await expect(verify(token)).resolves.toMatchObject({ userId: 'alice' });
    vi.setSystemTime(START_MS + 65_000);
    await expect(verify(token)).rejects.toMatchObject({ code: 'ERR_JWT_EXPIRED' });
  });

  it('never remembers a refusal: a not-yet-valid token is accepted once its nbf comes', async () => {
    const verify = createTokenVerifier(options);
    const token = await tokenFor({ kind: 'valid', expSec: 3600, nbfSec: 30, user: 'bob' });
    await expect(verify(token)).rejects.toMatchObject({ code: 'ERR_JWT_CLAIM_VALIDATION_FAILED' });
    vi.setSystemTime(START_MS + 25_000);
    await expect(verify(token)).resolves.toMatchObject({ userId: 'bob' });
  });

  it('verifies each pinned HMAC algorithm with its own key, and no other', async () => {
    const verify = createTokenVerifier({ ...options, algorithms: ['HS256', 'HS512'] });
    const sign = (alg: string, user: string) =>
      new SignJWT({ iss: 'switchboard' })
        .setProtectedHeader({ alg })
        .setSubject(user)
        .setExpirationTime(START_MS / 1000 + 60)
        .sign(encode(SECRET));
    await expect(verify(await sign('HS512', 'alice'))).resolves.toMatchObject({ userId: 'alice' });
    await expect(verify(await sign('HS256', 'bob'))).resolves.toMatchObject({ userId: 'bob' });
    await expect(verify(await sign('HS384', 'carol'))).rejects.toMatchObject({
      code: 'ERR_JOSE_ALG_NOT_ALLOWED',
    });
  });

  it('hands out a copy: changing a returned user does not change the next answer', async () => {
    const verify = createTokenVerifier(options);
    const token = await tokenFor({ kind: 'valid', expSec: 3600, nbfSec: undefined, user: 'carol' });
    const first = await verify(token);
    first.userId = 'mallory';
    await expect(verify(token)).resolves.toMatchObject({ userId: 'carol' });
  });

  it('gives the verdict jose gives, for any tokens, clock moves and cache size (seeded)', async () => {
    const claimSec = fc.option(fc.integer({ min: -20, max: 60 }), { nil: undefined });
    const tokenSpec = fc.record({
      kind: fc.constantFrom<TokenSpec['kind']>(
        'valid',
        'valid',
        'valid',
        'wrongSecret',
        'algNone',
        'hs512',
        'noSubject',
        'wrongIssuer',
      ),
      expSec: claimSec,
      nbfSec: claimSec,
      user: fc.constantFrom('alice', 'bob', 'carol'),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(tokenSpec, { minLength: 1, maxLength: 6 }),
        fc.array(
          fc.record({
            token: fc.nat(),
            // Whole seconds land on the claim boundaries; milliseconds test the rounding between them.
            advanceMs: fc.oneof(
              fc.integer({ min: -3, max: 12 }).map((sec) => sec * 1000),
              fc.integer({ min: -3_000, max: 12_000 }),
            ),
          }),
          {
            minLength: 1,
            maxLength: 25,
          },
        ),
        fc.integer({ min: 1, max: 4 }),
        async (specs, steps, cacheMaxEntries) => {
          vi.setSystemTime(START_MS);
          const tokens = await Promise.all(specs.map(tokenFor));
          const cached = createTokenVerifier(options, cacheMaxEntries);
          const jose = createTokenVerifier(options, 0);
          let now = START_MS;
          for (const step of steps) {
            now += step.advanceMs;
            vi.setSystemTime(now);
            const token = tokens[step.token % tokens.length]!;
            expect(await verdict(cached, token)).toEqual(await verdict(jose, token));
          }
        },
      ),
      { seed: 20261129, numRuns: 200 },
    );
  });
});
