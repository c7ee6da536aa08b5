import type { ServerResponse } from 'node:http';

/**
 * Ends `res` with `body` as JSON: the one shape of every answer the server writes itself (refused streams,
 * tickets, the request boundary's errors), never cached.
 */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res
    .writeHead(status, {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(text)),
      'cache-control': 'no-store',
      ...headers,
    })
    .end(text);
}
