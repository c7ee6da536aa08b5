import type { IncomingMessage } from 'node:http';
import { type AuthUser, extractToken, type TokenVerifier } from './auth.ts';
import type { ResolvedServerOptions } from './options.ts';
import { parseRequestTarget } from './requestDecoding.ts';
import type { TicketIssuer } from './ticket.ts';

export interface RequestAuthDeps {
  options: Pick<ResolvedServerOptions, 'authenticate' | 'cookieName'>;
  verifyToken: TokenVerifier | undefined;
  tickets: TicketIssuer | undefined;
}

/**
 * The user of a request (an upgrade, an HTTP call or an SSE stream), or null (→ 401). Credentials, first found
 * wins: a connection ticket (`?ticket=` or tRPC `connectionParams.ticket`), redeemed once; then custom
 * `authenticate`; then a JWT from `Authorization: Bearer`, tRPC `connectionParams.token` (what
 * `httpSubscriptionLink` sends, since an EventSource cannot set headers), `?token=`, the cookie.
 * A present but invalid ticket is a 401, never a fall-through to another credential.
 * Throws a BAD_REQUEST SwitchboardError when the request target or cookie is malformed; rejects when the
 * token does not verify.
 */
export async function authenticateRequest(
  req: IncomingMessage,
  deps: RequestAuthDeps,
  connectionParams?: Record<string, string> | null,
): Promise<AuthUser | null> {
  const ticket = parseRequestTarget(req.url).searchParams.get('ticket') ?? connectionParams?.ticket;
  if (ticket && deps.tickets) return deps.tickets.redeem(ticket);
  const { options, verifyToken } = deps;
  if (options.authenticate) return options.authenticate(req);
  const fromParams = req.headers.authorization?.startsWith('Bearer ') ? undefined : connectionParams?.token;
  const token = fromParams || extractToken(req, options.cookieName);
  return token ? verifyToken!(token) : null;
}
