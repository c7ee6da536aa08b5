import type { TRPCClientError } from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';
import { isTransportFailure } from './errors.ts';

/**
 * Holds WebSocket operations until tRPC's client has an open socket, and tells which failed operations
 * may be sent again.
 *
 * Why not hand them to tRPC's client at once: while it reconnects, a request it is given opens a socket of
 * its own (`batchSend` calls `open()`), which the reconnect loop then closes (`activeConnection.close()`
 * waits for that open and closes the new socket); the request, sent on it or not, fails with "WebSocket
 * closed" or "Active connection is not open" (tRPC's `handleCloseOrError` and `send`), and a subscription
 * that fails so is never resubscribed. Held here, an operation reaches tRPC only while tRPC's state is
 * `pending` (open), and leaves in the order it was made.
 *
 * What still fails on the way (the socket closed between hand-over and send, or after send): an operation
 * whose request never went on the wire is sent again, and so are queries and subscriptions (safe to repeat);
 * a mutation that was sent has an unknown outcome and fails (`CONNECTION_LOST`), unless the caller retries
 * it idempotently (`publishWithRetries`).
 */
export interface SocketGate {
  /** Runs `send` now if a socket is open, else once one is; returns a function that cancels it. */
  whenOpen(send: () => void): () => void;
  /** tRPC's client reported its state: `pending` means a socket is open. */
  setOpen(open: boolean): void;
}

export function createSocketGate(): SocketGate {
  let open = false;
  let waiting: (() => void)[] = [];
  return {
    whenOpen(send) {
      if (open) {
        send();
        return () => {};
      }
      let cancelled = false;
      const entry = () => {
        if (!cancelled) send();
      };
      waiting.push(entry);
      return () => {
        cancelled = true;
        waiting = waiting.filter((other) => other !== entry);
      };
    },
    setOpen(next) {
      open = next;
      if (!open) return;
      const released = waiting;
      waiting = [];
      // In the order they were made; a socket that closes meanwhile holds the rest again.
      for (let index = 0; index < released.length; index++) {
        if (!open) {
          waiting = [...released.slice(index), ...waiting];
          return;
        }
        released[index]!();
      }
    },
  };
}

/**
 * Which requests have gone on the wire: the connection tracks the ids of operations in flight, and the
 * instrumented socket reports every frame it sends (`recordFrame`).
 */
export interface SentRequests {
  /** Starts tracking an operation (tRPC's op id is its request id on the wire). */
  track(id: number): void;
  forget(id: number): void;
  /** Marks the tracked requests in this frame (one tRPC message or a batch) as sent. */
  recordFrame(data: unknown): void;
  wasSent(id: number): boolean;
}

export function createSentRequests(): SentRequests {
  const tracked = new Map<number, boolean>();
  return {
    track: (id) => void tracked.set(id, false),
    forget: (id) => void tracked.delete(id),
    wasSent: (id) => tracked.get(id) === true,
    recordFrame(data) {
      if (typeof data !== 'string' || data === 'PING' || data === 'PONG') return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(data);
      } catch {
        return;
      }
      for (const message of Array.isArray(parsed) ? parsed : [parsed]) {
        const { id, method } = (message ?? {}) as { id?: unknown; method?: unknown };
        if (typeof id === 'number' && method !== 'subscription.stop' && tracked.has(id))
          tracked.set(id, true);
      }
    },
  };
}

/**
 * True when an operation that failed on the way may be sent again: it never left, or repeating it is
 * safe (a query, a subscription). A mutation that left may have been applied: its failure stands.
 */
export function mayResend(
  error: TRPCClientError<AnyTRPCRouter>,
  type: 'query' | 'mutation' | 'subscription',
  sent: boolean,
): boolean {
  return isTransportFailure(error) && (type !== 'mutation' || !sent);
}
