import { startNode } from './orchestrator/children.ts';
import { startServer } from './orchestrator/servers.ts';
import { cpuMeter } from './orchestrator/procStat.ts';

const loadgen = startNode('loadgen', 'loadgen/main.ts', []);
for (const kind of ['raw', 'sio', 'sb'] as const) {
  const server = await startServer(kind);
  console.log(kind, 'port', server.port);
  const key = kind;
  console.log(await loadgen.ipc.call('connect', { key, kind, ports: [server.port], count: 500, channels: 1, concurrency: 100, timeoutMs: 30000 }));
  console.log(await loadgen.ipc.call('quiesce', { key, quietMs: 300, timeoutMs: 30000 }));
  const cpu = cpuMeter([server.pid]);
  const b = await loadgen.ipc.call<any>('burst', { key, channels: 1, eventsPerChannel: 100, timeoutMs: 20000 });
  const ms = cpu();
  console.log(b, 'cpu us/delivery', (ms * 1000) / b.delivered);
  console.log(await loadgen.ipc.call('rate', { key, publishesPerSecond: 100, durationMs: 1000, graceMs: 1000 }));
  console.log(await server.memory());
  await loadgen.ipc.call('close', { key, timeoutMs: 5000 });
  await server.stop();
}
await loadgen.kill();
