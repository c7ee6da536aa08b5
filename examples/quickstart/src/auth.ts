// auth.ts: HS256 tokens. In an app, your sign-in endpoint mints them and the client fetches one; here the
// client process mints its own with the shared secret, so the example runs without a sign-in page.
import { SignJWT } from 'jose';

// At least 32 bytes; set AUTH_SECRET to the same value for the server and the client.
export const secret = process.env.AUTH_SECRET ?? 'quickstart-only-secret-change-me-0123456789';

export function mintToken(userId: string, name: string): Promise<string> {
  return new SignJWT({ name }) // `name` is the display name subscribers see as `event.sender.name`
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId) // the user id
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(secret));
}
