import type { CommittedOp } from '@switchboard/protocol/demo';

/**
 * Where documents live: a snapshot, the op log after it and a feed of committed ops across instances.
 * `createMemoryDocStore` serves one process; `createRedisDocStore` many (an atomic compare-and-append in Lua).
 * Both pass the shared suite in `docStoreContract.ts`. The store knows nothing of OT: the service transforms,
 * the store only orders and keeps.
 *
 * Versions: a new document is version 0 with text ''. The op committed as version `v` turns version `v - 1`
 * into version `v`. Every `snapshotEvery` versions the store records the text and drops ops older than
 * `retainOps` before that snapshot, so the log stays bounded (at most `snapshotEvery + retainOps` ops).
 */
export interface DocStore {
  /** The latest snapshot and every retained op (which may start before the snapshot). */
  load(docId: string): Promise<DocLog>;

  /** Retained ops with `version > afterVersion`, oldest first, and the bounds of the log. */
  readOps(docId: string, afterVersion: number): Promise<OpRange>;

  /**
   * Appends `op` as version `op.version` only if the document is still at `op.version - 1` and `op.opId` was
   * never committed, atomically. `textAfter` is the document after `op`; the store keeps it when
   * `op.version` is a snapshot point. Committed ops reach every `subscribe` listener, on every instance.
   */
  commit(docId: string, op: CommittedOp, textAfter: string): Promise<CommitResult>;

  /** Version at which `opId` was committed, while that op is still in the log; else null. */
  findOpId(docId: string, opId: string): Promise<number | null>;

  /**
   * Starts live delivery of committed ops of `docId` to `listener`; resolves once delivery is active, so a
   * caller that subscribes and then reads the log cannot miss an op between the two. Delivery is at most
   * once and in order; a consumer detects gaps by version and refills from `readOps`.
   */
  subscribe(docId: string, listener: DocStoreListener): Promise<() => void>;

  /** Releases connections. Idempotent. */
  close(): Promise<void>;
}

export interface DocSnapshot {
  version: number;
  text: string;
}

export interface DocLog {
  snapshot: DocSnapshot;
  /** Version just before `ops[0]`: ops up to `baseVersion` are gone, so nobody can catch up from before it. */
  baseVersion: number;
  /** Contiguous, oldest first, from `baseVersion + 1` to the head. */
  ops: CommittedOp[];
}

export interface OpRange {
  /** Retained ops after the requested version, oldest first. */
  ops: CommittedOp[];
  baseVersion: number;
  headVersion: number;
}

export type CommitResult =
  | { status: 'committed'; version: number }
  /** `opId` was already committed, at `version`: nothing was written. */
  | { status: 'duplicate'; version: number }
  /** The document moved on: it is at `headVersion`, not `op.version - 1`. Nothing was written. */
  | { status: 'conflict'; headVersion: number };

export interface DocStoreListener {
  onOp(op: CommittedOp): void;
  /**
   * Ops may have been lost (the store's feed reconnected): read the log from the last version you have.
   * Stores whose feed cannot lose ops never call it.
   */
  onResync?(): void;
}
