import { readFileSync } from 'node:fs';

/**
 * Self size of a V8 heap snapshot (`v8.writeHeapSnapshot`) grouped by node type and name (constructor
 * for objects, function name for closures), so two snapshots can be compared: what one more connection
 * costs, by kind of object.
 */
interface HeapSnapshotFile {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export type HeapCensus = Map<string, { bytes: number; count: number }>;

export function heapCensus(file: string): HeapCensus {
  const data = JSON.parse(readFileSync(file, 'utf8')) as HeapSnapshotFile;
  const fields = data.snapshot.meta.node_fields;
  const types = data.snapshot.meta.node_types[0];
  const stride = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const census: HeapCensus = new Map();
  for (let i = 0; i < data.nodes.length; i += stride) {
    const type = types[data.nodes[i + typeAt]!]!;
    const rawName = data.strings[data.nodes[i + nameAt]!] ?? '';
    // Strings and numbers are named by their content: group them by type only.
    const name = type === 'object' || type === 'closure' || type === 'native' ? rawName.slice(0, 60) : '';
    const key = name ? `${type}: ${name}` : `(${type})`;
    const entry = census.get(key) ?? { bytes: 0, count: 0 };
    entry.bytes += data.nodes[i + sizeAt]!;
    entry.count++;
    census.set(key, entry);
  }
  return census;
}

/** What grew between two censuses, per unit (connection), largest first. */
export function censusGrowth(before: HeapCensus, after: HeapCensus, units: number, top = 20) {
  const rows = [...after.entries()].map(([key, a]) => {
    const b = before.get(key) ?? { bytes: 0, count: 0 };
    return { key, bytesPerUnit: (a.bytes - b.bytes) / units, countPerUnit: (a.count - b.count) / units };
  });
  const total = rows.reduce((sum, r) => sum + r.bytesPerUnit, 0);
  return {
    totalBytesPerUnit: total,
    rows: rows.sort((x, y) => y.bytesPerUnit - x.bytesPerUnit).slice(0, top),
  };
}
