import type { CommittedOp } from '@switchboard/protocol/demo';

/**
 * Where documents live: the current text (the head snapshot), the last ops before it, the ids of those ops,
 * and a feed of committed ops across instances. `createMemoryDocStore` serves one process;
 * `createRedisDocStore` many (an atomic compare-and-append in Lua). Both pass the shared suite in
 * `docStoreContract.ts`. The store knows nothing of OT: the service transforms, the store only orders and keeps.
 *
 * Versions: a document nobody committed to is version 0 with text '' and occupies nothing. The op committed
 * as version `v` turns version `v - 1` into version `v`. Every commit stores the text after it (as ShareDB
 * stores a snapshot with each op), so reading a document never replays its history, and drops ops more than
 * `retainOps` behind the head, so the log stays bounded.
 */
export interface DocStore {
  /**
   * The head snapshot and the retained ops with `version > opsAfter` (none when `opsAfter` is omitted), read
   * together. Creates nothing.
   */
  load(docId: string, opsAfter?: number): Promise<DocLog>;

  /** Retained ops with `version > afterVersion`, oldest first, and the bounds of the log. Creates nothing. */
  readOps(docId: string, afterVersion: number): Promise<OpRange>;

  /**
   * Appends `op` as version `op.version` only if the document is still at `op.version - 1` and its author
   * never committed an op with `op.opId` (an op id is scoped to `op.userId`), atomically, and stores
   * `textAfter` (the document after `op`) as the head. Committed ops reach every `subscribe` listener, on
   * every instance.
   */
  commit(docId: string, op: CommittedOp, textAfter: string): Promise<CommitResult>;

  /** Version at which `userId` committed an op with `opId`, while that op is still in the log; else null. */
  findOpId(docId: string, userId: string, opId: string): Promise<number | null>;

  /**
   * Starts live delivery of committed ops of `docId` to `listener`; resolves once delivery is active, so a
   * caller that subscribes and then reads the log cannot miss an op between the two. Delivery is at most
   * once and in order; a consumer detects gaps by version and refills from `readOps`. Creates no document.
   */
  subscribe(docId: string, listener: DocStoreListener): Promise<() => void>;

  /** Releases connections and timers. Idempotent. */
  close(): Promise<void>;
}

export interface DocSnapshot {
  version: number;
  text: string;
}

export interface DocLog {
  /** The head: the current version and text. */
  snapshot: DocSnapshot;
  /** Version just before the oldest retained op: nobody can catch up or submit from before it. */
  baseVersion: number;
  /** Contiguous, oldest first: the retained ops after the requested version. */
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
  /** The author already committed an op with this id, at `version`: nothing was written. */
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
