/**
 * A random op id: 16 bytes from `crypto.getRandomValues`, hex. Not `crypto.randomUUID`, which browsers only
 * offer in secure contexts (a demo opened over plain http on a LAN address has none).
 */
export function createRandomOpId(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}
