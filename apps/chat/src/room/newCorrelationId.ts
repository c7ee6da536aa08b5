/**
 * A random id for one send, echoed back on the event so the optimistic copy can be matched.
 * `crypto.getRandomValues` rather than `randomUUID`, which browsers only offer on secure origins.
 */
export function newCorrelationId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}
