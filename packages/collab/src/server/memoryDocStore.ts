import type { CommittedOp } from '@switchboard/protocol/demo';
import type { CommitResult, DocLog, DocSnapshot, DocStore, DocStoreListener, OpRange } from './docStore.ts';
import { type DocStoreOptions, resolveDocStoreOptions } from './options.ts';

interface MemoryDoc {
  snapshot: DocSnapshot;
  baseVersion: number;
  ops: CommittedOp[];
  opIds: Map<string, number>;
  listeners: Set<DocStoreListener>;
}

/**
 * A `DocStore` in this process's memory: one instance, lost on restart. Commits are atomic because nothing
 * awaits between the version check and the append.
 */
export function createMemoryDocStore(options: DocStoreOptions = {}): DocStore {
  const { snapshotEvery, retainOps } = resolveDocStoreOptions(options);
  const docs = new Map<string, MemoryDoc>();

  function docOf(docId: string): MemoryDoc {
    let doc = docs.get(docId);
    if (!doc) {
      doc = {
        snapshot: { version: 0, text: '' },
        baseVersion: 0,
        ops: [],
        opIds: new Map(),
        listeners: new Set(),
      };
      docs.set(docId, doc);
    }
    return doc;
  }

  function headOf(doc: MemoryDoc): number {
    return doc.baseVersion + doc.ops.length;
  }

  function snapshotAndTrim(doc: MemoryDoc, version: number, text: string): void {
    doc.snapshot = { version, text };
    const drop = version - retainOps - doc.baseVersion;
    if (drop <= 0) return;
    for (const op of doc.ops.splice(0, drop)) doc.opIds.delete(op.opId);
    doc.baseVersion += drop;
  }

  return {
    async load(docId): Promise<DocLog> {
      const doc = docOf(docId);
      return { snapshot: { ...doc.snapshot }, baseVersion: doc.baseVersion, ops: [...doc.ops] };
    },

    async readOps(docId, afterVersion): Promise<OpRange> {
      const doc = docOf(docId);
      const from = Math.max(0, afterVersion - doc.baseVersion);
      return { ops: doc.ops.slice(from), baseVersion: doc.baseVersion, headVersion: headOf(doc) };
    },

    async commit(docId, op, textAfter): Promise<CommitResult> {
      const doc = docOf(docId);
      const existing = doc.opIds.get(op.opId);
      if (existing !== undefined) return { status: 'duplicate', version: existing };
      const head = headOf(doc);
      if (op.version !== head + 1) return { status: 'conflict', headVersion: head };
      doc.ops.push(op);
      doc.opIds.set(op.opId, op.version);
      if (op.version % snapshotEvery === 0) snapshotAndTrim(doc, op.version, textAfter);
      for (const listener of doc.listeners) deliver(listener, op);
      return { status: 'committed', version: op.version };
    },

    async findOpId(docId, opId) {
      return docOf(docId).opIds.get(opId) ?? null;
    },

    async subscribe(docId, listener) {
      const doc = docOf(docId);
      doc.listeners.add(listener);
      return () => {
        doc.listeners.delete(listener);
      };
    },

    async close() {
      for (const doc of docs.values()) doc.listeners.clear();
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
