/**
 * When a JWT expires, read from its `exp` claim without verifying the signature: the client only plans
 * when to refresh its own token; the server is the one that verifies it. Returns `undefined` for
 * anything that is not a JWT with a numeric `exp` (opaque tokens, cookies), which then is never
 * refreshed in-band.
 */
export function tokenExpiresAtMs(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims: unknown = JSON.parse(decodeBase64Url(payload));
    const exp = (claims as { exp?: unknown } | null)?.exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** base64url (RFC 7515) to a UTF-8 string, with `atob`, which browsers and Node 20 both have. */
function decodeBase64Url(value: string): string {
  const base64 = value.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(base64.padEnd(base64.length + ((4 - (base64.length % 4)) % 4), '='));
  return new TextDecoder().decode(Uint8Array.from(binary, (char) => char.charCodeAt(0)));
}
