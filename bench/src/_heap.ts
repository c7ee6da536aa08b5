import { readFileSync } from 'node:fs';
import { startNode } from './orchestrator/children.ts';
import { startServer } from './orchestrator/servers.ts';
const loadgen = startNode('loadgen', 'loadgen/main.ts', []);
const server = await startServer('sb');
await loadgen.ipc.call('connect', { key: 'h', kind: 'sb', ports: [server.port], count: 300, channels: 3, concurrency: 100, timeoutMs: 60000 }, 70000);
await loadgen.ipc.call('quiesce', { key: 'h', quietMs: 300, timeoutMs: 60000 }, 70000);
const path = '/tmp/sb.heapsnapshot';
await server.child.ipc.call('heapSnapshot', { path }, 120000);
const data = JSON.parse(readFileSync(path, 'utf8'));
const meta = data.snapshot.meta;
const nf = meta.node_fields.length, ef = meta.edge_fields.length;
const types = meta.node_types[0], etypes = meta.edge_types[0];
const N = data.nodes.length / nf;
const firstEdge = new Uint32Array(N + 1);
for (let i = 0, e = 0; i < N; i++) { firstEdge[i] = e; e += data.nodes[i * nf + 4] * ef; firstEdge[i + 1] = e; }
const name = (i: number) => data.strings[data.nodes[i * nf + 1]];
const type = (i: number) => types[data.nodes[i * nf]];
const retainers = new Map<number, Array<[number, string]>>();
for (let i = 0; i < N; i++) for (let e = firstEdge[i]; e < firstEdge[i + 1]; e += ef) {
  const to = data.edges[e + 2] / nf; const et = etypes[data.edges[e]]; const en = et === 'element' || et === 'hidden' ? String(data.edges[e + 1]) : data.strings[data.edges[e + 1]];
  if (et === 'weak') continue;
  let list = retainers.get(to); if (!list) retainers.set(to, (list = [])); list.push([i, `${et}:${en}`]);
}
const targets = [] as number[];
for (let i = 0; i < N; i++) if (type(i) === 'object' && name(i) === 'IncomingMessage') targets.push(i);
console.log('IncomingMessage count', targets.length);
const tally = new Map<string, number>();
for (const t of targets.slice(0, 50)) {
  const chain: string[] = [];
  let cur = t;
  for (let depth = 0; depth < 6; depth++) {
    const r = (retainers.get(cur) ?? []).find(([from]) => type(from) !== 'synthetic');
    if (!r) break;
    chain.push(`${r[1]} <- ${type(r[0])}:${name(r[0]).slice(0, 40)}`);
    cur = r[0];
  }
  const key = chain.join(' | ');
  tally.set(key, (tally.get(key) ?? 0) + 1);
}
for (const [k, v] of tally) console.log(v, k);
// Retained by all requests together: reachable from them, minus anything also retained from outside.
const inSet = new Uint8Array(N);
const stack = [...targets];
for (const t of targets) inSet[t] = 1;
while (stack.length) {
  const i = stack.pop()!;
  for (let e = firstEdge[i]; e < firstEdge[i + 1]; e += ef) {
    const et = etypes[data.edges[e]];
    if (et === 'weak' || et === 'shortcut') continue;
    const to = data.edges[e + 2] / nf;
    if (!inSet[to]) { inSet[to] = 1; stack.push(to); }
  }
}
for (let changed = true; changed; ) {
  changed = false;
  for (let i = 0; i < N; i++) {
    if (!inSet[i] || targets.includes(i)) continue;
    const rs = retainers.get(i) ?? [];
    if (rs.some(([from]) => !inSet[from])) { inSet[i] = 0; changed = true; }
  }
}
let bytes = 0; let count = 0; const byName = new Map<string, number>();
for (let i = 0; i < N; i++) if (inSet[i]) { const b = data.nodes[i * nf + 3]; bytes += b; count++; const k = `${type(i)}:${type(i)==='object'?name(i):''}`; byName.set(k, (byName.get(k) ?? 0) + b); }
console.log('retained by requests per connection', (bytes / targets.length).toFixed(0), 'bytes,', (count / targets.length).toFixed(1), 'objects');
console.log([...byName].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([k, b]) => `${k} ${(b / targets.length).toFixed(0)}`).join('; '));
const arr = new Map<string, [number, number]>();
for (let i = 0; i < N; i++) {
  if (type(i) !== 'array' && type(i) !== 'code' && type(i) !== 'closure' && !(type(i) === 'object' && name(i) === 'system / Context')) continue;
  const r = (retainers.get(i) ?? [])[0];
  if (!r) continue;
  const from = r[0];
  const k = `${type(i)} via ${r[1]} <- ${type(from)}:${name(from).slice(0, 30)}`;
  const v = arr.get(k) ?? [0, 0]; v[0] += data.nodes[i * nf + 3]; v[1]++; arr.set(k, v);
}
console.log([...arr].filter(([, v]) => v[1] >= 290).sort((a, b) => b[1][0] - a[1][0]).slice(0, 80).map(([k, v]) => `${(v[0] / 300).toFixed(0)} B/conn ×${(v[1] / 300).toFixed(2)} ${k}`).join('\n'));
process.exit(0);
