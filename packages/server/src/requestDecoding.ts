import { ErrorCode, SwitchboardError } from '@switchboard/protocol';

/**
 * Decoding of client-supplied request text (request target, percent-encoding, cookies), guarded: malformed
 * input throws a `BAD_REQUEST` SwitchboardError, which the HTTP boundary answers with 400 and the upgrade
 * handler refuses with 400. `decodeURIComponent` and `new URL` throw plain `URIError`/`TypeError` on such
 * input; an unguarded call inside a request handler used to end the process (issue 11).
 */

function malformed(what: string): SwitchboardError {
  return new SwitchboardError(ErrorCode.BAD_REQUEST, `malformed ${what}`);
}

/**
 * Parses a request target as HTTP/1.1 defines it (RFC 9112 §3.2): origin-form (`/path?query`, including
 * `//`, which is two empty segments, not a scheme-relative URL) or absolute-form (`http://host/path`).
 * Throws BAD_REQUEST for anything else (`*`, `http://[/`).
 */
export function parseRequestTarget(target: string | undefined): URL {
  const text = target ?? '/';
  try {
    // Prefixing the origin keeps `//x` a path; `new URL('//x', base)` would read `x` as a host.
    return text.startsWith('/') ? new URL(`http://localhost${text}`) : new URL(text);
  } catch {
    throw malformed('request target');
  }
}

/** `decodeURIComponent` that throws BAD_REQUEST (naming `what`) instead of `URIError` on bad percent-encoding. */
export function decodeComponent(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw malformed(`percent-encoding in the ${what}`);
  }
}

/**
 * The value of cookie `name` in a `Cookie` header (RFC 6265 §5.4 pairs split on `;`), percent-decoded;
 * null when absent. Throws BAD_REQUEST when the value's percent-encoding is malformed.
 */
export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name)
      return decodeComponent(part.slice(eq + 1).trim(), 'cookie');
  }
  return null;
}
