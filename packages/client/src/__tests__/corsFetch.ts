/**
 * A `fetch` that follows a browser's CORS rules for a page on `pageOrigin` (Node's own fetch ignores them):
 * it sends `Origin`; a request a browser would preflight (any method but GET/HEAD/POST, or a header such as
 * `Authorization`) first sends `OPTIONS` and proceeds only if the answer allows the origin, the method and
 * the headers; the response is readable only with `access-control-allow-origin` for the page. Failures
 * reject with `TypeError('Failed to fetch')`, as browsers do. Extend it when a test needs another CORS rule
 * (credentials mode, exposed headers).
 */
const SIMPLE_HEADERS = new Set(['accept', 'accept-language', 'content-language', 'content-type']);

export function corsFetch(pageOrigin: string): typeof fetch {
  return async (input, init = {}) => {
    const url = new URL(String(input instanceof Request ? input.url : input));
    const method = (init.method ?? 'GET').toUpperCase();
    const headers = new Headers(init.headers);
    if (url.origin === pageOrigin) return fetch(input, init);
    const allowedOrigin = (response: Response) =>
      response.headers.get('access-control-allow-origin') === pageOrigin ||
      response.headers.get('access-control-allow-origin') === '*';
    const names: string[] = [];
    headers.forEach((_value, name) => {
      names.push(name);
    });
    const unsafeHeaders = names.filter((name) => !SIMPLE_HEADERS.has(name));
    if (!['GET', 'HEAD', 'POST'].includes(method) || unsafeHeaders.length > 0) {
      const preflight = await fetch(url, {
        method: 'OPTIONS',
        headers: {
          origin: pageOrigin,
          'access-control-request-method': method,
          'access-control-request-headers': unsafeHeaders.join(','),
        },
      });
      const allowedHeaders = (preflight.headers.get('access-control-allow-headers') ?? '')
        .toLowerCase()
        .split(',')
        .map((name) => name.trim());
      if (!preflight.ok || !allowedOrigin(preflight)) throw new TypeError('Failed to fetch');
      if (!unsafeHeaders.every((name) => allowedHeaders.includes(name)))
        throw new TypeError('Failed to fetch');
    }
    headers.set('origin', pageOrigin);
    const response = await fetch(url, { ...init, headers });
    if (!allowedOrigin(response)) throw new TypeError('Failed to fetch');
    return response;
  };
}
