import { CloseCode, CloseReason } from '@switchboard/protocol';
import type { Logger } from 'pino';
import { RECONNECT_NOTIFICATION } from './frames.ts';
import type { Registry } from './registry.ts';

/** After 1001, how long a client gets to answer the close handshake before its socket is destroyed. */
const CLOSE_HANDSHAKE_GRACE_MS = 1000;

/**
 * Graceful shutdown of the connections (the caller has already stopped accepting upgrades):
 * 1. tell every client to reconnect (tRPC's reconnect notification), so it moves to another instance;
 * 2. wait up to `drainTimeoutMs` for them to leave;
 * 3. close the rest with 1001, destroying any that ignore the close handshake;
 * resolves only when every socket is gone.
 */
export async function drainConnections(
  registry: Registry,
  drainTimeoutMs: number,
  logger: Logger,
): Promise<void> {
  const open = () => [...registry.all()];
  logger.info({ connections: registry.size }, 'draining connections');
  for (const connection of open()) connection.send(RECONNECT_NOTIFICATION);
  await waitUntil(() => registry.size === 0, drainTimeoutMs);
  for (const connection of open()) connection.socket.close(CloseCode.GOING_AWAY, CloseReason.GOING_AWAY);
  if (!(await waitUntil(() => registry.size === 0, CLOSE_HANDSHAKE_GRACE_MS))) {
    for (const connection of open()) connection.socket.terminate();
    await waitUntil(() => registry.size === 0, CLOSE_HANDSHAKE_GRACE_MS);
  }
  // Entries whose socket died without a close event.
  for (const connection of open()) connection.dispose();
}

/** Polls a condition every 10 ms until it holds or the time is up; resolves whether it held. */
async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}
