import { fileURLToPath } from 'node:url';
import { startNode } from './orchestrator/children.ts';
import { startServer } from './orchestrator/servers.ts';
import { cpuMeter } from './orchestrator/procStat.ts';
const loadgen = startNode('loadgen', 'loadgen/main.ts', []);
const patch = fileURLToPath(new URL('./_corkPatch.mjs', import.meta.url));
const servers: Record<string, any> = {};
const variants = ['sb', 'sb+cork', 'sio'];
for (const v of variants) {
  servers[v] = await startServer(v === 'sio' ? 'sio' : 'sb', { nodeFlags: v === 'sb+cork' ? ['--import', patch] : [] });
  await loadgen.ipc.call('connect', { key: v, kind: v === 'sio' ? 'sio' : 'sb', ports: [servers[v].port], count: 1000, channels: 1, concurrency: 200, timeoutMs: 60000 }, 70000);
  await loadgen.ipc.call('quiesce', { key: v, quietMs: 300, timeoutMs: 60000 }, 70000);
  await loadgen.ipc.call('burst', { key: v, channels: 1, eventsPerChannel: 100, timeoutMs: 20000 });
}
for (let rep = 0; rep < 3; rep++) for (const v of variants) {
  await loadgen.ipc.call('quiesce', { key: v, quietMs: 300, timeoutMs: 30000 });
  const cpu = cpuMeter([servers[v].pid]); const lg = cpuMeter([loadgen.pid]);
  const b = await loadgen.ipc.call<any>('burst', { key: v, channels: 1, eventsPerChannel: 200, timeoutMs: 30000 });
  console.log(v, 'burst dps', b.deliveriesPerSec.toFixed(0), 'server µs/d', ((cpu() * 1000) / b.delivered).toFixed(2), 'loadgen µs/d', ((lg() * 1000) / b.delivered).toFixed(2));
}
for (const v of variants) {
  await loadgen.ipc.call('quiesce', { key: v, quietMs: 300, timeoutMs: 30000 });
  const cpu = cpuMeter([servers[v].pid]);
  const r = await loadgen.ipc.call<any>('rate', { key: v, publishesPerSecond: 100, durationMs: 2000, graceMs: 1000 });
  console.log(v, 'rate100 p50', r.p50Ms.toFixed(2), 'p99', r.p99Ms.toFixed(2), 'complete', r.complete, 'server µs/d', ((cpu() * 1000) / r.delivered).toFixed(2));
}
process.exit(0);
