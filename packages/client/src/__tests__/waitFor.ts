/**
 * Awaiting what a client reports (connection states, channel events) instead of sleeping. Every wait has
 * a deadline and says what it was waiting for when it fails.
 */
import type { ConnectionState } from '../connectionState.ts';
import type { SwitchboardClient } from '../createSwitchboardClient.ts';

/** Resolves with the first state (the current one included) that matches. */
export function stateMatching(
  client: SwitchboardClient,
  predicate: (state: ConnectionState) => boolean,
  what: string,
  timeoutMs = 5000,
): Promise<ConnectionState> {
  const current = client.connection.getSnapshot();
  if (predicate(current)) return Promise.resolve(current);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      const last = JSON.stringify(client.connection.getSnapshot());
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; state: ${last}`));
    }, timeoutMs);
    const unsubscribe = client.connection.subscribe((next) => {
      if (!predicate(next)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(next);
    });
  });
}

/** Records every state the client goes through, starting with the current one. */
export function recordStates(client: SwitchboardClient): ConnectionState[] {
  const states = [client.connection.getSnapshot()];
  client.connection.subscribe((next) => states.push(next));
  return states;
}

/** A list that can be awaited until it holds `count` items. */
export function collector<T>() {
  const items: T[] = [];
  const waiters = new Set<() => void>();
  return {
    items,
    push(item: T) {
      items.push(item);
      for (const waiter of [...waiters]) waiter();
    },
    /** Resolves once `count` items arrived; rejects after `timeoutMs`. */
    waitFor(count: number, what = `${count} items`, timeoutMs = 5000): Promise<T[]> {
      if (items.length >= count) return Promise.resolve(items);
      return new Promise((resolve, reject) => {
        const check = () => {
          if (items.length < count) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(items);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; have ${items.length}`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
  };
}
