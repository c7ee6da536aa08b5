/**
 * `pnpm soak`: 10,000 connections with churn (10% reconnect per minute) and 200 publishes/s across 100 channels
 * against the demo server (in-memory broker), for SOAK_DURATION_S seconds (default 120; run 1800 by hand).
 * Reports server RSS and heap over time (flat within 10% after warm-up?), deliveries/s, p99 latency and errors,
 * writes bench/results/soak-latest.{json,md}, and exits non-zero when any error was seen.
 * Server and load generator share this machine's cores.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const SECRET = 'soak-secret-0123456789abcdef0123456789';
const durationS = Number(process.env.SOAK_DURATION_S ?? 120);
const connections = Number(process.env.SOAK_CONNECTIONS ?? 10_000);
const SAMPLE_EVERY_MS = 5000;
const CHANNELS = 100;
const PUBLISHES_PER_SECOND = 200;
/** Stored events kept per channel by the demo server's memory broker (its default). */
const HISTORY_SIZE = 1000;
/**
 * Until every channel's history is full, retained memory grows by design (1,000 events × 100 channels at
 * 200 events/s fill in 500 s). Warm-up is the first quarter of the run or that fill plus a minute, whichever
 * is longer, so a rising floor after it means a leak, not history being kept.
 */
const HISTORY_FILL_S = (HISTORY_SIZE * CHANNELS) / PUBLISHES_PER_SECOND;
const WARMUP_S = Math.max(durationS * 0.25, Math.min(HISTORY_FILL_S + 60, durationS * 0.5));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TSX = `${ROOT}apps/server/node_modules/.bin/tsx`;
const RESULTS = `${ROOT}bench/results`;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(url)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return Number(line?.split(' ').at(-1) ?? Number.NaN);
}

const port = await freePort();
const server = spawn('bash', ['-c', `ulimit -n 20000; exec "${TSX}" "${ROOT}apps/server/src/main.ts"`], {
  env: {
    ...process.env,
    PORT: String(port),
    AUTH_SECRET: SECRET,
    LOG_LEVEL: 'warn',
    MAX_CONNECTIONS: '20000',
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const serverStarted = new Promise<void>((resolve, reject) => {
  const deadline = setTimeout(() => reject(new Error('server did not start')), 30_000);
  const poll = setInterval(() => {
    fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => {
        if (r.ok) {
          clearInterval(poll);
          clearTimeout(deadline);
          resolve();
        }
      },
      () => {},
    );
  }, 200);
});
server.stdout!.resume();
await serverStarted;

const loadConfig = {
  wsUrl: `ws://127.0.0.1:${port}/ws`,
  secret: SECRET,
  connections,
  channels: CHANNELS,
  ratePerSecond: PUBLISHES_PER_SECOND,
  churnPerMinute: 0.1,
  durationMs: durationS * 1000,
  reportEveryMs: SAMPLE_EVERY_MS,
};
const loadgen = spawn(
  'bash',
  [
    '-c',
    `ulimit -n 20000; exec "${TSX}" "${fileURLToPath(new URL('./clients.ts', import.meta.url))}" '${JSON.stringify(loadConfig)}'`,
  ],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const reports: Record<string, unknown>[] = [];
let buffered = '';
loadgen.stdout!.on('data', (chunk: Buffer) => {
  buffered += chunk.toString();
  const lines = buffered.split('\n');
  buffered = lines.pop()!;
  for (const line of lines) if (line.startsWith('{')) reports.push(JSON.parse(line));
});

const samples: { t: number; rssMb: number; heapMb: number; connections: number }[] = [];
const started = Date.now();
const sampler = setInterval(async () => {
  const metricsUrl = `http://127.0.0.1:${port}/metrics`;
  const [rss, heap, open] = await Promise.all([
    metric(metricsUrl, 'process_resident_memory_bytes'),
    metric(metricsUrl, 'nodejs_heap_size_used_bytes'),
    metric(metricsUrl, 'switchboard_connections'),
  ]).catch(() => [Number.NaN, Number.NaN, Number.NaN]);
  samples.push({
    t: Math.round((Date.now() - started) / 1000),
    rssMb: rss! / 2 ** 20,
    heapMb: heap! / 2 ** 20,
    connections: open!,
  });
}, SAMPLE_EVERY_MS);

await new Promise((resolve) => loadgen.once('exit', resolve));
clearInterval(sampler);
server.kill('SIGTERM');

const final = reports.find((r) => r.final) as
  | {
      deliveries: number;
      published: number;
      reconnects: number;
      errors: number;
      errorKinds: object;
      p99: number;
      t: number;
    }
  | undefined;
const interval = reports.filter((r) => !r.final) as { p99: number; deliveries: number; t: number }[];
const settled = samples.filter((s) => s.t >= WARMUP_S && Number.isFinite(s.rssMb));
const spread = (values: number[]) =>
  values.length ? (Math.max(...values) - Math.min(...values)) / Math.min(...values) : Number.NaN;
const rssSpread = spread(settled.map((s) => s.rssMb));
const heapSpread = spread(settled.map((s) => s.heapMb));
// Heap used swings with V8's lazy major GCs, so the trend is read from its floor: the lowest sample of
// each 30-second window after warm-up. A leak shows as a rising floor.
const FLOOR_WINDOW_S = 30;
const floors: number[] = [];
for (const sample of settled) {
  const window = Math.floor(sample.t / FLOOR_WINDOW_S);
  floors[window] = Math.min(floors[window] ?? Number.POSITIVE_INFINITY, sample.heapMb);
}
const heapFloors = floors.filter((value) => value !== undefined && Number.isFinite(value));
const heapFloorSpread = spread(heapFloors);
// The trend: the median floor of the last third of the windows against the first third. A leak raises it;
// one window where the machine was busy elsewhere (buffers pile up while the server is starved of CPU)
// raises the spread above but not the medians.
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)]! : Number.NaN;
};
const third = Math.max(1, Math.floor(heapFloors.length / 3));
const floorTrend =
  (median(heapFloors.slice(-third)) - median(heapFloors.slice(0, third))) /
  median(heapFloors.slice(0, third));
// p99 of each 5-second interval after warm-up (the ramp to 10,000 connections is not steady state).
const steady = interval.filter((r) => r.t >= WARMUP_S * 1000);
const p99 = Math.max(0, ...steady.map((r) => r.p99));
const deliveriesPerSecond = final ? Math.round(final.deliveries / (final.t / 1000)) : 0;
const summary = {
  durationS,
  connections,
  channels: CHANNELS,
  publishesPerSecond: PUBLISHES_PER_SECOND,
  warmupS: WARMUP_S,
  churnPerMinute: '10%',
  deliveries: final?.deliveries,
  deliveriesPerSecond,
  published: final?.published,
  reconnects: final?.reconnects,
  worstIntervalP99Ms: p99,
  errors: final?.errors ?? 'no final report',
  errorKinds: final?.errorKinds,
  rssAfterWarmupSpread: `${(rssSpread * 100).toFixed(1)}%`,
  heapAfterWarmupSpread: `${(heapSpread * 100).toFixed(1)}%`,
  heapFloorsMb: heapFloors.map((value) => Number(value.toFixed(1))),
  heapFloorSpread: `${(heapFloorSpread * 100).toFixed(1)}%`,
  heapFloorTrend: `${(floorTrend * 100).toFixed(1)}%`,
  samples,
};
const table = [
  '| t (s) | connections | RSS (MiB) | heap (MiB) |',
  '|---:|---:|---:|---:|',
  ...samples.map((s) => `| ${s.t} | ${s.connections} | ${s.rssMb.toFixed(1)} | ${s.heapMb.toFixed(1)} |`),
].join('\n');
const markdown = `## Soak (${durationS} s, ${connections} connections, 10%/min churn, ${PUBLISHES_PER_SECOND} publishes/s on ${CHANNELS} channels)

Server and load generator share the machine's 2 cores.

- deliveries: ${final?.deliveries} (${deliveriesPerSecond}/s), published ${final?.published}, reconnects ${final?.reconnects}
- worst 5-second p99 publish→receive latency after warm-up: ${p99} ms (per interval: ${steady.map((r) => r.p99).join(', ')})
- errors (lost, duplicated, gaps, unexpected closes, failed publishes): ${summary.errors}
- warm-up: the first ${Math.round(WARMUP_S)} s (a quarter of the run, or until history is full: ${HISTORY_FILL_S} s plus a minute)
- after warm-up: RSS spread ${summary.rssAfterWarmupSpread}, heap spread ${summary.heapAfterWarmupSpread} (includes garbage awaiting V8's next major GC)
- heap floor per ${FLOOR_WINDOW_S} s window after warm-up (rises only with a leak): ${summary.heapFloorsMb.join(' → ')} MiB
- **heap floor trend ${summary.heapFloorTrend}** (median floor of the last third of the windows against the first third; target: within 10%); spread of all windows ${summary.heapFloorSpread}

${table}
`;
mkdirSync(RESULTS, { recursive: true });
writeFileSync(`${RESULTS}/soak-latest.json`, `${JSON.stringify(summary, null, 2)}\n`);
writeFileSync(`${RESULTS}/soak-latest.md`, markdown);
console.log(markdown);
process.exit(final && final.errors === 0 ? 0 : 1);
