import type { IncomingMessage } from 'node:http';

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
