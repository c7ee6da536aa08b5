import type { CommittedOp } from '@switchboard/protocol/demo';
import type { CommitResult, DocLog, DocStore, DocStoreListener, OpRange } from './docStore.ts';
import { opKeyOf } from './opKey.ts';
import { type DocStoreOptions, resolveDocStoreOptions } from './options.ts';

interface MemoryDoc {
  version: number;
  text: string;
  /** The last `retainOps` ops, oldest first, ending at `version`. */
  ops: CommittedOp[];
  /** `opKeyOf(userId, opId)` → version, for the ops in `ops`. */
  opKeys: Map<string, number>;
  /** `Date.now()` of the last commit, for `documentTtlMs`. */
  committedAt: number;
}

const EMPTY: Readonly<MemoryDoc> = {
  version: 0,
  text: '',
  ops: [],
  opKeys: new Map(),
  committedAt: 0,
};

/**
 * A `DocStore` in this process's memory: one instance, lost on restart. Commits are atomic because nothing
 * awaits between the version check and the append. A document exists from its first commit until
 * `documentTtlMs` after its last one; reads and subscriptions of unknown ids leave nothing behind.
 */
export function createMemoryDocStore(options: DocStoreOptions = {}): DocStore {
  const { retainOps, documentTtlMs } = resolveDocStoreOptions(options);
  // In order of last commit (a commit moves its document to the end), so expiry looks only at the front.
  const docs = new Map<string, MemoryDoc>();
  const listeners = new Map<string, Set<DocStoreListener>>();

  /** Drops documents idle for `documentTtlMs`: O(1) per call plus O(1) per expired document. */
  function expireIdle(): void {
    const oldest = Date.now() - documentTtlMs;
    for (const [docId, doc] of docs) {
      if (doc.committedAt > oldest) break;
      docs.delete(docId);
    }
  }

  function read(docId: string): Readonly<MemoryDoc> {
    expireIdle();
    return docs.get(docId) ?? EMPTY;
  }

  function opsAfter(doc: Readonly<MemoryDoc>, afterVersion: number): CommittedOp[] {
    const base = doc.version - doc.ops.length;
    return doc.ops.slice(Math.max(0, afterVersion - base));
  }

  return {
    async load(docId, after): Promise<DocLog> {
      const doc = read(docId);
      return {
        snapshot: { version: doc.version, text: doc.text },
        baseVersion: doc.version - doc.ops.length,
        ops: after === undefined ? [] : opsAfter(doc, after),
      };
    },

    async readOps(docId, afterVersion): Promise<OpRange> {
      const doc = read(docId);
      return {
        ops: opsAfter(doc, afterVersion),
        baseVersion: doc.version - doc.ops.length,
        headVersion: doc.version,
      };
    },

    async commit(docId, op, textAfter): Promise<CommitResult> {
      const found = read(docId);
      const key = opKeyOf(op.userId, op.opId);
      const existing = found.opKeys.get(key);
      if (existing !== undefined) return { status: 'duplicate', version: existing };
      if (op.version !== found.version + 1) return { status: 'conflict', headVersion: found.version };
      const doc: MemoryDoc =
        found === EMPTY ? { ...EMPTY, ops: [], opKeys: new Map() } : (found as MemoryDoc);
      doc.ops.push(op);
      doc.opKeys.set(key, op.version);
      for (const dropped of doc.ops.splice(0, Math.max(0, doc.ops.length - retainOps))) {
        doc.opKeys.delete(opKeyOf(dropped.userId, dropped.opId));
      }
      doc.version = op.version;
      doc.text = textAfter;
      doc.committedAt = Date.now();
      docs.delete(docId);
      docs.set(docId, doc);
      for (const listener of listeners.get(docId) ?? []) deliver(listener, op);
      return { status: 'committed', version: op.version };
    },

    async findOpId(docId, userId, opId) {
      return read(docId).opKeys.get(opKeyOf(userId, opId)) ?? null;
    },

    async subscribe(docId, listener) {
      let set = listeners.get(docId);
      if (!set) {
        set = new Set();
        listeners.set(docId, set);
      }
      set.add(listener);
      const current = set;
      return () => {
        current.delete(listener);
        if (current.size === 0 && listeners.get(docId) === current) listeners.delete(docId);
      };
    },

    async close() {
      listeners.clear();
    },
  };
}

function deliver(listener: DocStoreListener, op: CommittedOp): void {
  try {
    listener.onOp(op);
  } catch {
    // The op is committed whatever a listener does: its failure must not turn into a failed commit.
  }
}
