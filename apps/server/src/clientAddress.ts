import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/**
 * The address a request came from, for per-client limits such as the dev-login rate limit.
 *
 * With `trustedProxyHops` 0 it is the socket's peer. Behind proxies that peer is the proxy, so every user
 * would share one bucket; with `trustedProxyHops` = n (`TRUST_PROXY`), the n proxies closest to the server
 * are trusted to append the address they saw to `X-Forwarded-For` (nginx's `$proxy_add_x_forwarded_for`),
 * and the answer is the entry n places from the right. Entries further left were written by the client and
 * are never read, so a client cannot pick its own bucket. Same rule as Express's numeric `trust proxy`.
 * An entry that is not an IP address (a misconfigured proxy) falls back to the peer.
 */
export function clientAddress(req: IncomingMessage, trustedProxyHops: number): string {
  const peer = req.socket.remoteAddress ?? '';
  if (trustedProxyHops <= 0) return peer;
  const header = req.headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  // Nearest first: the peer, then what each trusted proxy appended, right to left.
  const chain = [peer, ...forwarded.reverse()];
  const candidate = chain[Math.min(trustedProxyHops, chain.length - 1)]!;
  return isIP(candidate) ? candidate : peer;
}
