/**
 * Runs tasks one after another per key and concurrently across keys: what one connection asks of one
 * channel is done in arrival order (subscribe, then publish, then setPresence, then unsubscribe), so requests
 * that arrive in one frame or one tick leave exactly the state they leave one by one. Phoenix serialises a
 * channel's messages the same way (one process per joined channel). Other channels, and procedures that
 * name no channel, do not wait.
 *
 * A class whose map is created on first use: every connection holds one, and most never need it.
 */
export class ChannelOrder {
  // Only keys with work pending are kept: the map is empty between bursts.
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
    });
    return result;
  }
}
