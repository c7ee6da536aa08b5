import { randomBytes } from 'node:crypto';
import { devLoginInputSchema } from '@switchboard/protocol/demo';
import { SignJWT } from 'jose';
import { normalizeDisplayName } from './displayName.ts';

/** Lifetime of a dev-login token, in seconds. */
export const DEV_TOKEN_TTL_SEC = 12 * 60 * 60;

export type DevLoginResult =
  | { ok: true; token: string; userId: string; name: string }
  | { ok: false; error: string };

/**
 * The demo's login: anyone may pick a name and gets a signed JWT. Real apps replace this with their
 * identity provider; the server only needs a token it can verify. The name is normalised
 * (`normalizeDisplayName`) and checked again against the schema afterwards, so its length limit holds for
 * what is stored; a name with nothing visible left is refused.
 */
export async function devLogin(body: unknown, secret: string): Promise<DevLoginResult> {
  const parsed = devLoginInputSchema.safeParse(body);
  if (!parsed.success) return { ok: false, error: parsed.error.issues[0]?.message ?? 'invalid body' };
  const normalized = normalizeDisplayName(parsed.data.name);
  if (normalized === '') {
    return {
      ok: false,
      error: 'name has no visible characters (control, bidi and zero-width characters are removed)',
    };
  }
  const checked = devLoginInputSchema.safeParse({ name: normalized });
  if (!checked.success) return { ok: false, error: checked.error.issues[0]?.message ?? 'invalid name' };
  const { name } = checked.data;
  const userId = `u_${randomBytes(6).toString('hex')}`;
  const token = await new SignJWT({ name })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime(`${DEV_TOKEN_TTL_SEC}s`)
    .sign(new TextEncoder().encode(secret));
  return { ok: true, token, userId, name };
}
