import type { CommittedOp } from '@switchboard/protocol/demo';
import { Redis } from 'ioredis';
import type { CommitResult, DocLog, DocStore, DocStoreListener, OpRange } from './docStore.ts';
import { opKeyOf } from './opKey.ts';
import { type RedisDocStoreOptions, resolveDocStoreOptions } from './options.ts';
import { runScript, scripts } from './redisScripts.ts';

function keysOf(docId: string) {
  const tag = `collab:{${docId}}`;
  return {
    head: `${tag}:head`,
    log: `${tag}:log`,
    opKeys: `${tag}:opkeys`,
    channel: `${tag}:committed`,
  };
}

/**
 * A `DocStore` in Redis, shared by every instance: commits are a compare-and-append Lua script on the
 * document's op list, and each committed op is published (from inside the script, so in commit order) on
 * `collab:{docId}:committed`. Pub/sub is at most once; when the subscriber connection comes back, listeners
 * get `onResync` and refill from the list. Each commit sends the text after the op (one write of the
 * document's size, bounded by the service's `maxDocumentChars`) and refreshes the keys' TTL.
 */
export function createRedisDocStore(options: RedisDocStoreOptions): DocStore {
  const { retainOps, documentTtlMs } = resolveDocStoreOptions(options);
  const ttlMs = Number.isFinite(documentTtlMs) ? documentTtlMs : 0;
  const ownsClient = typeof options.redis === 'string';
  const redis = typeof options.redis === 'string' ? new Redis(options.redis) : options.redis;
  // A client made here has no other 'error' listener: without one, ioredis prints every failed reconnect
  // as "[ioredis] Unhandled error event". Commands still reject to their callers; the host's broker logs
  // the outage. A client passed in is its owner's to watch.
  if (ownsClient) redis.on('error', () => {});
  let subscriber: Redis | null = null;
  let closed = false;
  /** Local listeners per pub/sub channel; the Redis subscription exists while the set is non-empty. */
  const channels = new Map<string, { listeners: Set<DocStoreListener>; subscribed: Promise<unknown> }>();

  function subscriberOf(): Redis {
    if (subscriber) return subscriber;
    const connection = redis.duplicate();
    let readyBefore = false;
    connection.on('message', subscriberOnMessage);
    connection.on('ready', () => {
      // ioredis resubscribes by itself after a reconnect, but what was published meanwhile is gone.
      if (readyBefore) for (const entry of channels.values()) for (const l of entry.listeners) l.onResync?.();
      readyBefore = true;
    });
    // Without a listener an 'error' event is reported as unhandled; ioredis reconnects on its own and
    // onResync repairs what was missed.
    connection.on('error', () => {});
    subscriber = connection;
    return connection;
  }

  function subscriberOnMessage(channel: string, message: string): void {
    const entry = channels.get(channel);
    if (!entry) return;
    const op = JSON.parse(message) as CommittedOp;
    for (const listener of entry.listeners) {
      try {
        listener.onOp(op);
      } catch {
        // One listener's failure must not keep the op from the others.
      }
    }
  }

  function parseOps(entries: string[]): CommittedOp[] {
    return entries.map((entry) => JSON.parse(entry) as CommittedOp);
  }

  return {
    async load(docId, opsAfter): Promise<DocLog> {
      const keys = keysOf(docId);
      const [version, text, base, entries] = (await runScript(
        redis,
        scripts.load,
        [keys.head, keys.log],
        [opsAfter ?? ''],
      )) as [number, string, number, string[]];
      return { snapshot: { version, text }, baseVersion: base, ops: parseOps(entries) };
    },

    async readOps(docId, afterVersion): Promise<OpRange> {
      const keys = keysOf(docId);
      const [base, head, entries] = (await runScript(
        redis,
        scripts.readOps,
        [keys.head, keys.log],
        [afterVersion],
      )) as [number, number, string[]];
      return { ops: parseOps(entries), baseVersion: base, headVersion: head };
    },

    async commit(docId, op, textAfter): Promise<CommitResult> {
      const keys = keysOf(docId);
      const [status, version] = (await runScript(
        redis,
        scripts.commit,
        [keys.head, keys.log, keys.opKeys],
        [
          op.version - 1,
          opKeyOf(op.userId, op.opId),
          JSON.stringify(op),
          keys.channel,
          textAfter,
          retainOps,
          ttlMs,
        ],
      )) as ['committed' | 'duplicate' | 'conflict', number];
      return status === 'conflict' ? { status, headVersion: version } : { status, version };
    },

    async findOpId(docId, userId, opId) {
      const version = await redis.zscore(keysOf(docId).opKeys, opKeyOf(userId, opId));
      return version === null ? null : Number(version);
    },

    async subscribe(docId, listener) {
      // A subscriber connection made after close() would never be quit.
      if (closed) throw new Error('redis doc store is closed');
      const { channel } = keysOf(docId);
      let entry = channels.get(channel);
      if (!entry) {
        entry = { listeners: new Set(), subscribed: subscriberOf().subscribe(channel) };
        channels.set(channel, entry);
      }
      entry.listeners.add(listener);
      const current = entry;
      try {
        await current.subscribed;
      } catch (error) {
        removeListener(channel, current, listener);
        throw error;
      }
      return () => removeListener(channel, current, listener);
    },

    async close() {
      if (closed) return;
      closed = true;
      channels.clear();
      await Promise.all([
        subscriber ? subscriber.quit().catch(() => subscriber?.disconnect()) : undefined,
        ownsClient ? redis.quit().catch(() => redis.disconnect()) : undefined,
      ]);
    },
  };

  function removeListener(
    channel: string,
    entry: { listeners: Set<DocStoreListener> },
    listener: DocStoreListener,
  ): void {
    entry.listeners.delete(listener);
    if (entry.listeners.size > 0 || channels.get(channel) !== entry) return;
    channels.delete(channel);
    // Commands on one connection run in order, so a SUBSCRIBE sent after this UNSUBSCRIBE wins.
    subscriber?.unsubscribe(channel).catch(() => {});
  }
}
