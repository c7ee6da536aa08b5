import type { Redis } from 'ioredis';
import type { DocStore } from './docStore.ts';

export interface DocStoreOptions {
  /** Record a snapshot of the text every this many versions. @default 100 */
  snapshotEvery?: number;
  /**
   * Ops kept before the latest snapshot, so clients that far behind can still catch up or submit against
   * their version (older ones must reopen the document). @default 100
   */
  retainOps?: number;
}

export interface RedisDocStoreOptions extends DocStoreOptions {
  /**
   * An ioredis client (left open by `close()`; a second connection for pub/sub is made with `duplicate()`),
   * or a URL such as `redis://127.0.0.1:6380` (both connections are the store's own).
   */
  redis: Redis | string;
}

export interface CollabServiceOptions {
  store: DocStore;
  /**
   * Commits attempted per submit before it fails with BROKER_UNAVAILABLE. An attempt fails only when another
   * instance committed to the same document in between; submits within one instance are queued per document.
   * @default 50
   */
  maxCommitAttempts?: number;
}

const docStoreDefaults = {
  snapshotEvery: 100,
  retainOps: 100,
} satisfies Required<DocStoreOptions>;

const collabServiceDefaults = {
  maxCommitAttempts: 50,
} satisfies Required<Omit<CollabServiceOptions, 'store'>>;

export function resolveDocStoreOptions(options: DocStoreOptions = {}): Required<DocStoreOptions> {
  const resolved = {
    snapshotEvery: options.snapshotEvery ?? docStoreDefaults.snapshotEvery,
    retainOps: options.retainOps ?? docStoreDefaults.retainOps,
  };
  if (!Number.isSafeInteger(resolved.snapshotEvery) || resolved.snapshotEvery < 1) {
    throw new TypeError(`snapshotEvery must be a positive integer (versions), got ${resolved.snapshotEvery}`);
  }
  if (!Number.isSafeInteger(resolved.retainOps) || resolved.retainOps < 0) {
    throw new TypeError(`retainOps must be a non-negative integer (ops), got ${resolved.retainOps}`);
  }
  return resolved;
}

export function resolveCollabServiceOptions(options: CollabServiceOptions): Required<CollabServiceOptions> {
  if (!options.store)
    throw new TypeError('store is required: pass createMemoryDocStore() or createRedisDocStore()');
  const resolved = {
    store: options.store,
    maxCommitAttempts: options.maxCommitAttempts ?? collabServiceDefaults.maxCommitAttempts,
  };
  if (!Number.isSafeInteger(resolved.maxCommitAttempts) || resolved.maxCommitAttempts < 1) {
    throw new TypeError(`maxCommitAttempts must be a positive integer, got ${resolved.maxCommitAttempts}`);
  }
  return resolved;
}
