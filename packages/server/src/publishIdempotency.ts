import { createHash } from 'node:crypto';

/** Who an idempotency key belongs to: a user (`channel.publish`) or the server (`publishAsServer`). */
export type KeyAuthor = { userId: string } | 'server';

/**
 * The key the broker deduplicates on: the caller's key scoped to its author, so the same key from another
 * user is another request (and can neither replay nor block someone else's publish). JSON of a tuple,
 * so no user id can be chosen to land in another author's scope (`a:b` + `c` vs `a` + `b:c`).
 */
export function scopedIdempotencyKey(author: KeyAuthor, key: string): string {
  return JSON.stringify(author === 'server' ? ['server', key] : ['user', author.userId, key]);
}

/**
 * Identifies what a publish asks for, so a retry (same key, same request) is told apart from a different
 * request reusing a key: SHA-256 of the channel, event type, validated payload and correlation id as
 * canonical JSON (object keys sorted, so key order does not matter), base64url. The correlation id counts:
 * a retry is answered with the stored event's, so a request with another one is another request.
 */
export function publishFingerprint(
  channel: string,
  type: string,
  payload: unknown,
  correlationId?: string,
): string {
  return createHash('sha256')
    .update(canonicalJson([channel, type, payload, correlationId ?? null]))
    .digest('base64url');
}

/** JSON with every object's keys in sorted order (`toJSON` runs first, as in `JSON.stringify`). */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, current: unknown) => {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return current;
    const object = current as Record<string, unknown>;
    // fromEntries defines own properties, so a `__proto__` key stays data.
    return Object.fromEntries(
      Object.keys(object)
        .sort()
        .map((key) => [key, object[key]]),
    );
  });
}
