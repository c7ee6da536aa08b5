/**
 * What the client puts into the WebSocket URL for a token: a single-use connection ticket, never the
 * long-lived token itself when the server can issue tickets (a URL ends up in proxy logs and in the browser
 * console, which prints the whole URL of a failed connect).
 *
 * `POST ticketUrl` with `Authorization: Bearer <token>` answers `{ ticket }` (Switchboard servers since the
 * HTTP transport, `packages/server/src/ticketRoute.ts`). A server without the route (404/405) only understands
 * `?token=`, so the token goes there as before; `ticketUrl: false` asks for that explicitly. A refusal (401,
 * 403...) connects with a ticket that cannot be redeemed: the upgrade is then refused, and the connection's
 * refusal and auth-check rules report it, instead of a second path that would. A network failure or timeout
 * rejects, and so does a 5xx, 408 or 429: the attempt fails as the upgrade would have, and is retried with
 * backoff (tRPC's client calls the URL function again), rather than connecting without the credentials the
 * user does have.
 */
export async function credentialQuery(options: {
  token: string | undefined;
  ticketUrl: string | false;
  fetch: typeof globalThis.fetch | undefined;
  timeoutMs: number;
}): Promise<{ name: 'ticket' | 'token'; value: string } | undefined> {
  const { token, ticketUrl } = options;
  if (!token) return undefined;
  if (ticketUrl === false || !options.fetch) return { name: 'token', value: token };
  const exchange = () =>
    options.fetch!(ticketUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(options.timeoutMs),
      credentials: 'omit',
    });
  // Tried twice: after a server restart the first POST may go out on a pooled keep-alive socket the old
  // process left behind, which fails at once; a POST is not retried by the HTTP stack on its own.
  const answer = await exchange().catch(exchange);
  if (answer.status === 404 || answer.status === 405) return { name: 'token', value: token };
  if (!answer.ok) return REFUSED_TICKET;
  let ticket: unknown;
  try {
    ({ ticket } = (await answer.json()) as { ticket?: unknown });
  } catch {
    return REFUSED_TICKET;
  }
  return typeof ticket === 'string' && ticket ? { name: 'ticket', value: ticket } : REFUSED_TICKET;
}

/**
 * Sent when the server refused to exchange the token: a ticket the server cannot redeem, so the upgrade is
 * refused (401) and the refusal rules report `unauthorized`. Connecting with no credential instead would let a
 * browser's cookie, possibly another user's, stand in for the refused token.
 */
const REFUSED_TICKET = { name: 'ticket', value: 'refused' } as const;

/** `baseUrl` with the credential as a query parameter (or unchanged without one). */
export function withCredential(
  baseUrl: string,
  credential: { name: string; value: string } | undefined,
): string {
  if (!credential) return baseUrl;
  const url = new URL(baseUrl);
  url.searchParams.set(credential.name, credential.value);
  return url.toString();
}
