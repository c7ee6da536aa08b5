import type { Connection, Registry } from './registry.ts';

export interface HeartbeatOptions {
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  /** Called with the connections that answered their last ping (presence refresh). */
  onAlive(connectionIds: string[]): void;
  /** Called for a connection that did not answer in time, just before it is terminated. */
  onDead(connection: Connection): void;
}

/**
 * WebSocket ping frames (not tRPC's text PING, which only clients that opt in answer) on one timer for
 * all connections. A connection silent for `heartbeatTimeoutMs` after its ping is terminated; its close
 * handler then removes it from channels and presence, so the other members are told.
 */
export function startHeartbeat(registry: Registry, options: HeartbeatOptions): { stop(): void } {
  const { heartbeatIntervalMs: intervalMs, heartbeatTimeoutMs: timeoutMs } = options;
  const pingSentAt = new WeakMap<Connection, number>();
  // Check twice per period so a dead peer is found within ~1.5x the timeout.
  const checkEveryMs = Math.max(5, Math.min(intervalMs, timeoutMs) / 2);
  const timer = setInterval(() => {
    const now = Date.now();
    const alive: string[] = [];
    for (const connection of registry.all()) {
      const sent = pingSentAt.get(connection);
      // Any frame or pong after the ping counts as an answer.
      if (sent !== undefined && connection.lastSeenAt < sent) {
        if (now - sent >= timeoutMs) {
          options.onDead(connection);
          connection.socket.terminate();
        }
        continue;
      }
      if (sent === undefined || now - sent >= intervalMs) {
        if (sent !== undefined) alive.push(connection.id);
        pingSentAt.set(connection, now);
        connection.socket.ping();
      }
    }
    if (alive.length > 0) options.onAlive(alive);
  }, checkEveryMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
