import type { IncomingMessage } from 'node:http';
import { UpgradeStatus } from '@switchboard/protocol';
import type { Logger } from 'pino';
import type { AuthUser, TokenVerifier } from './auth.ts';
import type { HttpRoute } from './httpHandler.ts';
import { sendJson } from './jsonResponse.ts';
import type { ResolvedServerOptions } from './options.ts';
import { answerCors, isOriginAllowed } from './origin.ts';
import type { TicketIssuer } from './ticket.ts';

/**
 * `POST <ticketPath>` with `Authorization: Bearer <token>` (or what a custom `authenticate` accepts) answers
 * `{ ticket, expiresAt }`: a single-use credential valid `ticketTtlMs`, for `?ticket=` on the WebSocket upgrade
 * or an SSE stream, so the long-lived token travels in a header and never in a URL. Tokens in the query or a
 * ticket are not accepted here: the first would put the token in a URL after all, the second would let a ticket
 * live forever. 401 without valid credentials, 403 for a disallowed Origin, 405 for any other method. An allowed
 * cross-origin caller gets CORS headers, and its preflight (`OPTIONS`) a 204.
 */
export function createTicketRoute(deps: {
  options: ResolvedServerOptions;
  verifyToken: TokenVerifier | undefined;
  tickets: TicketIssuer;
  logger: Logger;
}): HttpRoute {
  const { options } = deps;

  async function userOf(req: IncomingMessage): Promise<AuthUser | null> {
    if (options.authenticate) return options.authenticate(req);
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : '';
    if (!token) return null;
    try {
      return await deps.verifyToken!(token);
    } catch (error) {
      deps.logger.info({ reason: (error as Error).message }, 'ticket refused: invalid token');
      return null;
    }
  }

  return {
    matches: (pathname) => pathname === options.ticketPath,
    async handle(req, res) {
      if (!isOriginAllowed(req, options.allowedOrigins)) {
        return sendJson(res, UpgradeStatus.FORBIDDEN, { error: 'origin not allowed' });
      }
      // A page on an allowed other origin exchanges its token here with `fetch` and an Authorization
      // header: the browser asks first (preflight) and reads the answer only with the CORS headers.
      if (answerCors(req, res, { methods: 'POST, OPTIONS', headers: 'authorization, content-type' })) return;
      if (req.method !== 'POST') return sendJson(res, 405, { error: 'use POST' }, { allow: 'POST, OPTIONS' });
      const user = await userOf(req);
      if (!user)
        return sendJson(res, UpgradeStatus.UNAUTHORIZED, { error: 'missing or invalid credentials' });
      return sendJson(res, 200, deps.tickets.issue(user));
    },
  };
}
