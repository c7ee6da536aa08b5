import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { jwtVerify, SignJWT } from 'jose';
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

/** The verdict as data, so a verifier and jose can be compared with `toEqual`. */
async function verdict(verify: (token: string) => Promise<AuthUser>, token: string) {
  try {
    return { accepted: await verify(token) };
  } catch (error) {
    return { refused: (error as Error).name };
  }
}

/**
 * The reference: jose's `jwtVerify` with the raw secret, as the verifier was before it had a cache or a
 * node:crypto path, and the claims → user mapping the server documents (`sub` required, `name` defaulting
 * to it, string `roles`, `exp` in ms).
 */
function joseAlone(verifierOptions: { issuer?: string; audience?: string; algorithms?: string[] }) {
  return async (token: string): Promise<AuthUser> => {
    const { payload } = await jwtVerify(token, encode(SECRET), {
      algorithms: ['HS256'],
      clockTolerance: TOLERANCE_SEC,
      ...verifierOptions,
    });
    if (typeof payload.sub !== 'string' || payload.sub === '') throw new Error('token has no subject');
    const name = typeof payload.name === 'string' && payload.name ? payload.name : payload.sub;
    const roles = Array.isArray(payload.roles) ? payload.roles.filter((r) => typeof r === 'string') : [];
    return {
      userId: payload.sub,
      name,
      roles,
      ...(typeof payload.exp === 'number' ? { expiresAt: payload.exp * 1000 } : {}),
    };
  };
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
    // A header parameter the node:crypto path leaves to jose (jose ignores it), so jose verifies this one.
    const token = await new SignJWT({ iss: 'switchboard' })
      .setProtectedHeader({ alg: 'HS256', x5t: 'thumbprint' })
      .setSubject('alice')
      .setExpirationTime(START_MS / 1000 + 3600)
      .sign(encode(SECRET));
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
          const jose = joseAlone({ issuer: options.issuer });
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

  it('accepts and refuses exactly what jose does, for forged and malformed tokens (seeded)', async () => {
    const b64 = (bytes: Buffer | string) => Buffer.from(bytes).toString('base64url');
    const invalidUtf8 = Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
    /** Mostly values that pass, so a fair share of tokens is valid, and the rest one at a time. */
    const mostly = <T>(passing: T[], failing: T[]) =>
      fc.oneof(
        { weight: 5, arbitrary: fc.constantFrom(...passing) },
        { weight: 1, arbitrary: fc.constantFrom(...failing) },
      );
    const header = mostly<string | Buffer>(
      [
        '{"alg":"HS256"}',
        '{"alg":"HS256","typ":"JWT"}',
        '{"typ":"JWT","alg":"HS256","kid":"k1"}',
        '{"alg":"HS256","typ":5}',
        '{"alg":"HS512"}',
        '{"alg":"HS256","x5u":"https://example.com"}',
        '{"alg":"none","alg":"HS256"}',
        '\uFEFF{"alg":"HS256"}',
      ],
      [
        '{"alg":"HS384"}',
        '{"alg":"HS256","kid":"\xff"}',
        '{"alg":"none"}',
        '{"alg":"RS256"}',
        '{"alg":5}',
        '{"alg":""}',
        '{"alg":"HS256","crit":["b64"],"b64":false}',
        '{"alg":"HS256","crit":["exp"]}',
        '{"alg":"HS256","b64":false}',
        '{"alg":"HS256","__proto__":{"crit":["x"]}}',
        '{"alg":"HS256","alg":"none"}',
        '{}',
        '[]',
        '"HS256"',
        'null',
        'not json',
        invalidUtf8,
      ],
    );
    // Seconds after START_MS; the clock runs mostly within the first minute (see clockSec).
    const exp = mostly<unknown>([undefined, 64, 3600, '1e400'], [0, -60, '-1e400', null, 'soon']);
    const nbf = mostly<unknown>([undefined, 0, -60, '-1e400'], [64, 3600, '1e400', null, 'soon']);
    const claims = fc.record({
      sub: mostly<unknown>(['alice'], ['', 5, undefined]),
      name: mostly<unknown>(['Alice', '', undefined], [7]),
      roles: mostly<unknown>([['admin', 3], 'admin', undefined], [null]),
      iss: mostly<unknown>(['switchboard'], ['other', ['switchboard'], undefined]),
      aud: mostly<unknown>(['app', ['web', 'app']], [['web'], 'web', 7, undefined]),
      iat: mostly<unknown>([undefined, 0, 3600], [null, 'soon']),
      nbf,
      exp,
    });
    /** Claims JSON with times relative to START_MS; '1e400' stays a literal JSON number (Infinity in JS). */
    const claimsJson = (c: Record<string, unknown>) => {
      const startSec = START_MS / 1000;
      const entries = Object.entries(c).filter(([, v]) => v !== undefined);
      return `{${entries
        .map(([k, v]) => {
          const time = ['iat', 'nbf', 'exp'].includes(k) && typeof v === 'number' ? startSec + v : v;
          return `${JSON.stringify(k)}:${typeof time === 'string' && time.endsWith('e400') ? time : JSON.stringify(time)}`;
        })
        .join(',')}}`;
    };
    const payloads = fc.oneof(
      { weight: 6, arbitrary: claims.map(claimsJson) },
      {
        weight: 1,
        arbitrary: fc.constantFrom<string | Buffer>('[]', '42', 'null', '"x"', 'garbage', invalidUtf8),
      },
      // Valid JSON once an invalid byte is replaced by U+FFFD: jose's strict decoder refuses it.
      {
        weight: 1,
        arbitrary: claims.map((c) =>
          Buffer.concat([Buffer.from(claimsJson(c).slice(0, -1)), Buffer.from(',"x":"\xff"}', 'latin1')]),
        ),
      },
      { weight: 1, arbitrary: claims.map((c) => `\uFEFF${claimsJson(c)}`) },
    );
    const spec = fc.record({
      header,
      payload: payloads,
      signedWith: mostly(
        ['header alg', 'loose bits'],
        ['HS256', 'HS384', 'HS512', 'wrongSecret', 'empty', 'truncated'],
      ),
      mangle: mostly(['none'], ['padding', 'space', 'extra char', 'four parts', 'plus']),
      issuer: fc.boolean(),
      audience: fc.boolean(),
      widerPin: fc.boolean(),
      clockSec: fc.oneof(
        // nbf 64 becomes valid at 59 (64 ≤ now + 5), exp 64 expires at 69 (64 ≤ now − 5).
        { weight: 2, arbitrary: fc.constantFrom(0, 58, 59, 68, 69) },
        { weight: 2, arbitrary: fc.integer({ min: -10, max: 70 }) },
        { weight: 1, arbitrary: fc.integer({ min: -70, max: 3700 }) },
      ),
    });
    const tokenOf = (t: typeof spec extends fc.Arbitrary<infer T> ? T : never) => {
      // Mangled before signing: the issuer's own odd encodings, which only a signature can make valid.
      let payloadPart = b64(t.payload);
      if (t.mangle === 'padding') payloadPart += '=';
      else if (t.mangle === 'space') payloadPart = ` ${payloadPart}`;
      else if (t.mangle === 'extra char') payloadPart += 'A';
      else if (t.mangle === 'plus') payloadPart = payloadPart.replace(/-|_|$/, '+');
      const signingInput = `${b64(t.header)}.${payloadPart}`;
      const mac = (alg: string, secret: string) =>
        createHmac(`sha${alg.slice(2)}`, secret)
          .update(signingInput)
          .digest('base64url');
      let signature: string;
      if (t.signedWith === 'wrongSecret') signature = mac('HS256', OTHER_SECRET);
      else if (t.signedWith === 'empty') signature = '';
      else if (t.signedWith === 'truncated') signature = mac('HS256', SECRET).slice(0, -2);
      else if (t.signedWith === 'loose bits') {
        // 43 characters for 32 bytes: the last one carries 2 unused bits; set them (jose ignores them).
        const canonical = mac('HS256', SECRET);
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
        signature = canonical.slice(0, -1) + alphabet[alphabet.indexOf(canonical.at(-1)!) | 3];
      } else if (t.signedWith === 'header alg') {
        const alg = /"alg":"(HS\d+)"/.exec(Buffer.from(t.header).toString())?.[1] ?? 'HS256';
        signature = mac(alg, SECRET);
      } else signature = mac(t.signedWith, SECRET);
      const token = `${signingInput}.${signature}`;
      return t.mangle === 'four parts' ? `${token}.x` : token;
    };
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(spec, async (t) => {
        vi.setSystemTime(START_MS + t.clockSec * 1000);
        const verifierOptions = {
          ...(t.issuer ? { issuer: 'switchboard' } : {}),
          ...(t.audience ? { audience: 'app' } : {}),
          ...(t.widerPin ? { algorithms: ['HS256', 'HS512'] } : {}),
        };
        const verify = createTokenVerifier({
          secret: SECRET,
          clockToleranceSec: TOLERANCE_SEC,
          ...verifierOptions,
        });
        const token = tokenOf(t);
        const expected = await verdict(joseAlone(verifierOptions), token);
        if ('accepted' in expected) accepted++;
        expect(await verdict(verify, token)).toEqual(expected);
      }),
      { seed: 20261130, numRuns: 1500 },
    );
    // The property means something only if a fair share of the tokens is valid.
    expect(accepted).toBeGreaterThan(200);
  });
});
