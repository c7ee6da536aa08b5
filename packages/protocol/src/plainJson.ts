/**
 * Keys that the shared transformer (superjson) refuses to encode, as a prototype-pollution guard. A value
 * holding one anywhere could be accepted and stored, and then fail every later response that carries it.
 */
const UNENCODABLE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** How deep a client-supplied value may nest. */
const MAX_DEPTH = 64;

/**
 * Why `value` is not plain JSON that round-trips through the wire encoding, or undefined when it is.
 * Plain JSON: null, booleans, finite numbers, strings, arrays and plain objects of those, nested at most
 * 64 deep, with no key `__proto__`, `constructor` or `prototype`. Object properties that are `undefined`
 * are allowed and dropped (as `JSON.stringify` drops them). Dates, Maps, BigInts, NaN and the like are
 * refused: a channel event is stored and fanned out as JSON, so they would not arrive as they were sent.
 *
 * @returns e.g. `"at meta.constructor: the key 'constructor' cannot be encoded"`
 */
export function describeNonPlainJson(value: unknown): string | undefined {
  return check(value, [], 0);
}

function check(value: unknown, path: string[], depth: number): string | undefined {
  const at = path.length ? ` at ${path.join('.')}` : '';
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : `${at}: numbers must be finite`;
  if (typeof value !== 'object') return `${at}: ${typeof value} is not JSON`;
  if (depth >= MAX_DEPTH) return `${at}: nested deeper than ${MAX_DEPTH}`;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (value[i] === undefined) return `${at}.${i}: undefined is not JSON`;
      const problem = check(value[i], [...path, String(i)], depth + 1);
      if (problem) return problem;
    }
    return undefined;
  }
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) {
    return `${at}: ${(value as object).constructor?.name ?? 'this object'} is not plain JSON`;
  }
  for (const key of Object.keys(value)) {
    if (UNENCODABLE_KEYS.has(key)) return `${at}: the key '${key}' cannot be encoded`;
    const item = (value as Record<string, unknown>)[key];
    if (item === undefined) continue;
    const problem = check(item, [...path, key], depth + 1);
    if (problem) return problem;
  }
  return undefined;
}
