/**
 * Why Redis cannot be used, in one line an operator can act on: which server (host:port, never the URL's
 * password) and what failed, e.g. `redis 127.0.0.1:6390: connect ECONNREFUSED`. Used by the broker's
 * status reason (`/readyz`) and its log records.
 */

/** Longest reason kept, in characters: a reply error can carry a long message. */
const MAX_REASON_CHARS = 200;

/**
 * `host:port` of the configured Redis, for reasons whose error does not name the server. Several seeds
 * (a Cluster) show the first and how many more; a URL that does not parse (a unix socket path) shows as is,
 * without anything after `@`.
 */
export function redisAddress(url: string | readonly string[]): string {
  const urls = typeof url === 'string' ? [url] : url;
  const first = urls[0] ?? '';
  let address: string;
  try {
    const parsed = new URL(first);
    address = `${parsed.hostname || '127.0.0.1'}:${parsed.port || '6379'}`;
  } catch {
    address = first.slice(first.lastIndexOf('@') + 1) || '127.0.0.1:6379';
  }
  return urls.length > 1 ? `${address} (+${urls.length - 1} more seeds)` : address;
}

interface SystemErrorLike {
  message?: unknown;
  code?: unknown;
  syscall?: unknown;
  address?: unknown;
  port?: unknown;
  hostname?: unknown;
  lastNodeError?: unknown;
}

/**
 * Describes an ioredis or socket error. A socket error names the server it failed on (`address:port`, or
 * the host name that did not resolve); other errors are said to come from `address`. ioredis's
 * `ClusterAllFailedError` ("Failed to refresh slots cache.") is reported through the node error behind it.
 */
export function describeRedisError(error: unknown, address: string): string {
  const e = (typeof error === 'object' && error !== null ? error : {}) as SystemErrorLike;
  if (e.lastNodeError !== undefined) {
    return truncate(`redis cluster: no node answered, last: ${describeRedisError(e.lastNodeError, address)}`);
  }
  if (typeof e.code === 'string' && typeof e.syscall === 'string') {
    const where =
      typeof e.address === 'string' && e.port !== undefined
        ? `${e.address}:${e.port}`
        : typeof e.hostname === 'string'
          ? e.hostname
          : address;
    return truncate(`redis ${where}: ${e.syscall} ${e.code}`);
  }
  const message = typeof e.message === 'string' && e.message ? e.message : String(error);
  return truncate(`redis ${address}: ${message}`);
}

function truncate(reason: string): string {
  return reason.length > MAX_REASON_CHARS ? `${reason.slice(0, MAX_REASON_CHARS - 1)}…` : reason;
}
