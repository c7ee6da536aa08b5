import type { Redis } from 'ioredis';
import type { DocStore } from './docStore.ts';

export interface DocStoreOptions {
  /**
   * Ops kept behind the head of each document, in ops. A client at most this many versions behind can still
   * submit against its version or catch up on `collab.ops`; an older one is told to reopen the document
   * (BAD_REQUEST "... reopen the document"). Bounds the log: a document holds its text plus this many ops.
   * @default 200
   */
  retainOps?: number;
  /**
   * A document that nobody edited for this long is deleted, in ms: its text, op log and op ids (Redis:
   * a TTL on its keys, refreshed by every commit; memory: dropped on the store's next call). Reading a
   * document never creates or extends one. `Infinity` keeps documents for good.
   * @default 604_800_000 (7 days)
   */
  documentTtlMs?: number;
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
  /**
   * Largest document, in code points (the unit of op positions). A submit that would grow a document past it
   * is refused with BAD_REQUEST; ops that shrink an oversized document are still accepted. Every submit
   * handles the whole text once (checks, applies, stores it), so this bounds the cost of one op.
   * @default 1_000_000 (about the limit of a Google Docs document)
   */
  maxDocumentChars?: number;
}

const docStoreDefaults = {
  retainOps: 200,
  documentTtlMs: 7 * 24 * 60 * 60 * 1000,
} satisfies Required<DocStoreOptions>;

const collabServiceDefaults = {
  maxCommitAttempts: 50,
  maxDocumentChars: 1_000_000,
} satisfies Required<Omit<CollabServiceOptions, 'store'>>;

/** Merges defaults and rejects values that cannot work, naming the fix. */
export function resolveDocStoreOptions(options: DocStoreOptions = {}): Required<DocStoreOptions> {
  const resolved = {
    retainOps: options.retainOps ?? docStoreDefaults.retainOps,
    documentTtlMs: options.documentTtlMs ?? docStoreDefaults.documentTtlMs,
  };
  // At least the op just committed, or a retry of it after a lost acknowledgement would be applied twice.
  if (!Number.isSafeInteger(resolved.retainOps) || resolved.retainOps < 1) {
    throw new TypeError(`retainOps must be a positive integer (ops), got ${resolved.retainOps}`);
  }
  const ttl = resolved.documentTtlMs;
  if (ttl !== Number.POSITIVE_INFINITY && (!Number.isSafeInteger(ttl) || ttl < 1)) {
    throw new TypeError(`documentTtlMs must be a positive integer (ms) or Infinity, got ${ttl}`);
  }
  return resolved;
}

/** Merges defaults and rejects values that cannot work, naming the fix. */
export function resolveCollabServiceOptions(options: CollabServiceOptions): Required<CollabServiceOptions> {
  if (!options.store)
    throw new TypeError('store is required: pass createMemoryDocStore() or createRedisDocStore()');
  const resolved = {
    store: options.store,
    maxCommitAttempts: options.maxCommitAttempts ?? collabServiceDefaults.maxCommitAttempts,
    maxDocumentChars: options.maxDocumentChars ?? collabServiceDefaults.maxDocumentChars,
  };
  if (!Number.isSafeInteger(resolved.maxCommitAttempts) || resolved.maxCommitAttempts < 1) {
    throw new TypeError(`maxCommitAttempts must be a positive integer, got ${resolved.maxCommitAttempts}`);
  }
  if (!Number.isSafeInteger(resolved.maxDocumentChars) || resolved.maxDocumentChars < 1) {
    throw new TypeError(
      `maxDocumentChars must be a positive integer (code points), got ${resolved.maxDocumentChars}`,
    );
  }
  return resolved;
}
