import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchDir } from '../orchestrator/children.ts';
import type { BenchContext } from '../orchestrator/context.ts';
import { type ProfileSummary, summariseProfile } from '../orchestrator/cpuProfile.ts';
import { censusGrowth, heapCensus } from '../orchestrator/heapSnapshot.ts';
import { type ServerHandle, startServer } from '../orchestrator/servers.ts';
import type { ServerKind } from '../wire.ts';

const ALL_SYSTEMS: readonly ServerKind[] = ['raw', 'pre', 'sio', 'sb'];
/** `BENCH_PROFILE_SYSTEMS=sb,pre` profiles only those servers. */
const SYSTEMS: readonly ServerKind[] =
  process.env.BENCH_PROFILE_SYSTEMS?.split(',').filter((k): k is ServerKind =>
    ALL_SYSTEMS.includes(k as ServerKind),
  ) ?? ALL_SYSTEMS;
const BURSTS = 5;
/** Connections of the connect profile and the heap census (100 per channel, like the idle figure). */
const CENSUS_CONNECTIONS = 2_000;
const CENSUS_CHANNELS = 20;

/**
 * `BENCH_PROFILE=1 pnpm bench`: each server runs under `node --cpu-prof`, and the profile is summarised over
 * two kinds of window, marked with the server's monotonic clock (the one V8 stamps samples with):
 * connect + subscribe of 2,000 clients, the 1-channel burst repeated 5 times, and the unbatched run (the
 * server publishes one event per macrotask) repeated 5 times. Around the connects, two
 * heap snapshots show what one idle subscribed connection keeps alive, by constructor.
 */
export async function profileScenario(ctx: BenchContext): Promise<void> {
  const { config } = ctx;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const sections: string[] = [];
  for (const kind of SYSTEMS) {
    // One folder per server: Node writes a profile per thread (tsx's loader hooks run on a worker thread).
    const dir = join(benchDir, 'results', 'profiles', stamp, kind);
    mkdirSync(dir, { recursive: true });
    const server = await startServer(kind, { nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
    const connectWindows: [number, number][] = [];
    const burstWindows: [number, number][] = [];
    const spreadWindows: [number, number][] = [];
    let heap: ReturnType<typeof censusGrowth> | undefined;
    let burst = { deliveries: 0, cpuMs: 0 };
    let spread = { deliveries: 0, cpuMs: 0 };
    let connectCpuMs = 0;
    try {
      const census = await censusAroundConnect(ctx, server, kind, dir, connectWindows);
      heap = census.growth;
      connectCpuMs = census.cpuMs;
      ({ burst, spread } = await profiledBursts(ctx, server, kind, burstWindows, spreadWindows));
    } finally {
      await server.stop();
    }
    // The main thread's profile is the largest one.
    const file = readdirSync(dir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .sort((a, b) => statSync(join(dir, b)).size - statSync(join(dir, a)).size)[0];
    if (!file) {
      sections.push(`## ${kind}\n\nno profile written\n`);
      continue;
    }
    const profile = join(dir, file);
    const burstSummary = summariseProfile(profile, burstWindows);
    const connectSummary = summariseProfile(profile, connectWindows);
    const spreadSummary = summariseProfile(profile, spreadWindows);
    const spreadCpu = (spread.cpuMs * 1000) / spread.deliveries;
    const burstCpu = (burst.cpuMs * 1000) / burst.deliveries;
    ctx.log(
      `${kind}: ${burstCpu.toFixed(2)} µs/delivery under the profiler; burst top: ` +
        burstSummary.top
          .slice(0, 3)
          .map((r) => `${r.fn} ${r.selfPct.toFixed(1)}%`)
          .join(', '),
    );
    sections.push(
      [
        `## ${kind}`,
        '',
        `Profile: \`${join('profiles', stamp, kind, file)}\`.`,
        '',
        `### Fan-out burst (${config.fanoutSubscribers} subscribers, ${BURSTS} × ${config.burstEvents} events)`,
        '',
        `${burst.deliveries.toLocaleString('en-US')} deliveries, ${burstCpu.toFixed(2)} µs server CPU per delivery with the profiler on.`,
        '',
        renderProfile(burstSummary),
        `### Unbatched fan-out (${config.fanoutSubscribers} subscribers, ${BURSTS} × ${config.burstEvents} events, one per macrotask)`,
        '',
        `${spread.deliveries.toLocaleString('en-US')} deliveries, ${spreadCpu.toFixed(2)} µs server CPU per delivery with the profiler on.`,
        '',
        renderProfile(spreadSummary),
        `### Connect + subscribe (${CENSUS_CONNECTIONS} clients over ${CENSUS_CHANNELS} channels)`,
        '',
        `${((connectCpuMs * 1000) / CENSUS_CONNECTIONS).toFixed(0)} µs server CPU per connection with the profiler on.`,
        '',
        renderProfile(connectSummary),
        ...(heap ? renderHeap(heap) : []),
      ].join('\n'),
    );
  }
  const markdown = [
    '# Where the servers spend their time (CPU profiles and heap census)',
    '',
    `Run ${stamp}. Percentages are of the sampled non-idle time inside the marked windows (samples are wall ` +
      'time: a thread waiting for a core still counts). Open the .cpuprofile files in Chrome DevTools ' +
      '(Performance → Load profile).',
    '',
    ...sections,
  ].join('\n');
  writeFileSync(join(benchDir, 'results', `profile-${stamp}.md`), `${markdown}\n`);
  writeFileSync(join(benchDir, 'results', 'profile-latest.md'), `${markdown}\n`);
  ctx.log('wrote results/profile-latest.md');
}

async function censusAroundConnect(
  ctx: BenchContext,
  server: ServerHandle,
  kind: ServerKind,
  dir: string,
  windows: [number, number][],
) {
  const key = `census-${kind}`;
  const path = (name: string) => join(dir, `${name}.heapsnapshot`);
  await server.child.ipc.call('heapSnapshot', { path: path('before') }, 120_000);
  const from = await server.child.ipc.call<number>('mark');
  const connect = await ctx.measure([server.pid], async () => {
    await ctx.connect({
      key,
      kind,
      ports: [server.port],
      count: CENSUS_CONNECTIONS,
      channels: CENSUS_CHANNELS,
    });
    await ctx.quiesce(key);
  });
  windows.push([from, await server.child.ipc.call<number>('mark')]);
  await server.child.ipc.call('heapSnapshot', { path: path('after') }, 120_000);
  await ctx.closeGroup(key);
  const growth = censusGrowth(heapCensus(path('before')), heapCensus(path('after')), CENSUS_CONNECTIONS);
  rmSync(path('before'));
  rmSync(path('after'));
  return { growth, cpuMs: connect.serverCpuMs };
}

async function profiledBursts(
  ctx: BenchContext,
  server: ServerHandle,
  kind: ServerKind,
  windows: [number, number][],
  spreadWindows: [number, number][],
) {
  const { config } = ctx;
  const key = `profile-${kind}`;
  let deliveries = 0;
  let cpuMs = 0;
  const spread = { deliveries: 0, cpuMs: 0 };
  try {
    await ctx.connect({ key, kind, ports: [server.port], count: config.fanoutSubscribers, channels: 1 });
    await ctx.quiesce(key);
    await ctx.burst(key, 1, config.burstEvents);
    for (let i = 0; i < BURSTS; i++) {
      await ctx.quiesce(key);
      const from = await server.child.ipc.call<number>('mark');
      const run = await ctx.measure([server.pid], () => ctx.burst(key, 1, config.burstEvents));
      windows.push([from, await server.child.ipc.call<number>('mark')]);
      deliveries += run.result.delivered;
      cpuMs += run.serverCpuMs;
    }
    await ctx.quiesce(key);
    await ctx.serverPublishes(key, server.child, config.burstEvents);
    for (let i = 0; i < BURSTS; i++) {
      await ctx.quiesce(key);
      const from = await server.child.ipc.call<number>('mark');
      const run = await ctx.measure([server.pid], () =>
        ctx.serverPublishes(key, server.child, config.burstEvents),
      );
      spreadWindows.push([from, await server.child.ipc.call<number>('mark')]);
      spread.deliveries += run.result.delivered;
      spread.cpuMs += run.serverCpuMs;
    }
  } finally {
    await ctx.closeGroup(key).catch(() => {});
  }
  return { burst: { deliveries, cpuMs }, spread };
}

function renderProfile(s: ProfileSummary): string {
  const row = (r: ProfileSummary['top'][number]) =>
    `| ${r.fn} | ${r.where} | ${r.area} | ${r.selfPct.toFixed(1)} | ${r.totalPct.toFixed(1)} |`;
  const head = ['| function | where | area | self % | total % |', '|---|---|---|---:|---:|'];
  return [
    `${s.busyMs.toFixed(0)} ms busy, ${s.idleMs.toFixed(0)} ms idle sampled` +
      `${s.windowed ? ' in the windows' : ' (whole profile: the windows did not match)'}.`,
    '',
    `By area (self time): ${s.areas.map((a) => `${a.area} ${a.selfPct.toFixed(1)}%`).join(', ')}.`,
    '',
    'Top by self time:',
    '',
    ...head,
    ...s.top.slice(0, 15).map(row),
    '',
    'Top by inclusive time:',
    '',
    ...head,
    ...s.topInclusive.slice(0, 20).map(row),
    '',
  ].join('\n');
}

function renderHeap(growth: ReturnType<typeof censusGrowth>): string[] {
  return [
    `### Heap per idle subscribed connection (snapshot diff, ${CENSUS_CONNECTIONS} connections)`,
    '',
    `${(growth.totalBytesPerUnit / 1024).toFixed(2)} KiB of V8 heap per connection. Largest contributors:`,
    '',
    '| node (type: constructor / function) | bytes per connection | objects per connection |',
    '|---|---:|---:|',
    ...growth.rows.map((r) => `| ${r.key} | ${r.bytesPerUnit.toFixed(0)} | ${r.countPerUnit.toFixed(2)} |`),
    '',
  ];
}
