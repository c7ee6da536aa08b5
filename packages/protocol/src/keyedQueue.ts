/**
 * Runs tasks one after another per key, in call order, and concurrently across keys.
 *
 * Used where order per key is the rule: a connection's requests naming one channel (so requests that arrive
 * in one frame leave the state they leave one by one; Phoenix serialises a channel's messages the same way),
 * and collab submits per document (so they do not race each other for one version within a process).
 *
 * A class whose map exists only while work is pending: every connection holds one, and most are idle.
 */
export class KeyedQueue {
  // Only keys with work pending are kept, and the map itself only while one is: none between bursts.
  private tails: Map<string, Promise<unknown>> | undefined;

  /** Runs `task` after every earlier task of `key` has settled; resolves or rejects as `task` does. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    this.tails ??= new Map();
    const tails = this.tails;
    const previous = tails.get(key);
    const result = previous ? previous.then(task, task) : task();
    const tail = result.then(
      () => {},
      () => {},
    );
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
      if (tails.size === 0 && this.tails === tails) this.tails = undefined;
    });
    return result;
  }
}
