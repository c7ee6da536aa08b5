/**
 * A random id for one send, echoed back on the event so the optimistic copy can be matched. Chosen here, not
 * left to `publish` (which picks one only if none is given, and tells it only when it resolves): the echo can
 * arrive before that, and a retry must reuse the id. `crypto.getRandomValues` rather than `randomUUID`, which
 * browsers only offer on secure origins.
 */
export function newCorrelationId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}
