import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The `Origin` allow-list, the same for the WebSocket upgrade and the HTTP transport: exact matches from
 * `allowedOrigins`, `'*'` for any, and with an empty list only same-origin requests (Origin host equals Host).
 * Requests without an Origin are allowed: non-browser clients send none, and cross-site requests that could
 * carry a victim's cookie come from browsers, which send one (on upgrades, `fetch` and EventSource alike).
 */
export function isOriginAllowed(req: IncomingMessage, allowedOrigins: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (allowedOrigins.includes('*') || allowedOrigins.includes(origin)) return true;
  try {
    return allowedOrigins.length === 0 && new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/**
 * CORS for a request whose origin passed `isOriginAllowed` (same-origin requests need none): the allow
 * headers for its origin and, for a preflight (`OPTIONS`), the 204 answer naming `methods` and `headers`.
 * Returns true when it answered the preflight.
 */
export function answerCors(
  req: IncomingMessage,
  res: ServerResponse,
  allow: { methods: string; headers: string },
): boolean {
  const origin = req.headers.origin;
  if (origin !== undefined) {
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('access-control-allow-credentials', 'true');
    res.setHeader('vary', 'origin');
  }
  if (req.method !== 'OPTIONS') return false;
  res
    .writeHead(204, {
      'access-control-allow-methods': allow.methods,
      'access-control-allow-headers': allow.headers,
      'access-control-max-age': '600',
    })
    .end();
  return true;
}
