/**
 * A random hex id (correlation ids, op ids) from `crypto.getRandomValues`, which every browser context and
 * Node offer — unlike `crypto.randomUUID`, which browsers only offer on secure origins (a demo opened over
 * plain http on a LAN address has none).
 */
export function randomId(bytes = 16): string {
  const values = globalThis.crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(values, (byte) => byte.toString(16).padStart(2, '0')).join('');
}
