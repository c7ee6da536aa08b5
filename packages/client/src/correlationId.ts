/** A fresh correlation id for one publish: how the app matches the echo of its own event. */
export function newCorrelationId(): string {
  const crypto = globalThis.crypto as Crypto | undefined;
  if (typeof crypto?.randomUUID === 'function') return crypto.randomUUID();
  // Non-secure browser contexts (plain http on a LAN address) have no randomUUID.
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}
