import { randomBytes } from 'node:crypto';
import { devLoginInputSchema } from '@switchboard/protocol/demo';
import { SignJWT } from 'jose';

/** Lifetime of a dev-login token, in seconds. */
export const DEV_TOKEN_TTL_SEC = 12 * 60 * 60;

export type DevLoginResult =
  | { ok: true; token: string; userId: string; name: string }
  | { ok: false; error: string };

/**
 * The demo's login: anyone may pick a name and gets a signed JWT. Real apps replace this with their
 * identity provider; the server only needs a token it can verify.
 */
export async function devLogin(body: unknown, secret: string): Promise<DevLoginResult> {
  const parsed = devLoginInputSchema.safeParse(body);
  if (!parsed.success) return { ok: false, error: parsed.error.issues[0]?.message ?? 'invalid body' };
  const { name } = parsed.data;
  const userId = `u_${randomBytes(6).toString('hex')}`;
  const token = await new SignJWT({ name })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime(`${DEV_TOKEN_TTL_SEC}s`)
    .sign(new TextEncoder().encode(secret));
  return { ok: true, token, userId, name };
}
