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
process.exit(0);
