import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerKind } from '../wire.ts';
import { benchDir } from '../orchestrator/children.ts';
import type { BenchContext } from '../orchestrator/context.ts';
import { type ProfileSummary, summariseProfile } from '../orchestrator/cpuProfile.ts';
import { startServer } from '../orchestrator/servers.ts';

const SYSTEMS: readonly ServerKind[] = ['raw', 'sio', 'sb'];
const BURSTS = 5;

/**
 * `BENCH_PROFILE=1 pnpm bench`: each server runs under `node --cpu-prof`; the 1-channel burst is repeated
 * and the profile is summarised over the burst windows only (marked with the server's monotonic clock, the
 * one V8 stamps samples with), so connection setup does not blur where fan-out time goes.
 */
export async function profileScenario(ctx: BenchContext): Promise<void> {
  const { config } = ctx;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = join(benchDir, 'results', 'profiles');
  mkdirSync(dir, { recursive: true });
  const sections: string[] = [];
  for (const kind of SYSTEMS) {
    const name = `${kind}-${stamp}.cpuprofile`;
    const server = await startServer(kind, { nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}`] });
    const key = `profile-${kind}`;
    const windows: [number, number][] = [];
    let deliveries = 0;
    let cpuMs = 0;
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
    } finally {
      await ctx.closeGroup(key).catch(() => {});
      await server.stop();
    }
    const file = readdirSync(dir).find((f) => f === name);
    if (!file) {
      sections.push(`### ${kind}\n\nno profile written`);
      continue;
    }
    const summary = summariseProfile(join(dir, file), windows);
    ctx.log(`${kind}: ${(cpuMs * 1000 / deliveries).toFixed(2)} µs/delivery under the profiler; top: ${summary.top.slice(0, 3).map((r) => `${r.fn} ${r.selfPct.toFixed(1)}%`).join(', ')}`);
    sections.push(renderSection(kind, summary, join('profiles', file), (cpuMs * 1000) / deliveries, deliveries));
  }
  const markdown = [
    `# CPU profile of the 1-channel fan-out (${config.fanoutSubscribers} subscribers, ${BURSTS} bursts of ${config.burstEvents} events)`,
    '',
    `Run ${stamp}. Percentages are of the sampled non-idle time inside the burst windows. Open the .cpuprofile files in Chrome DevTools (Performance → Load profile).`,
    '',
    ...sections,
  ].join('\n');
  writeFileSync(join(benchDir, 'results', `profile-${stamp}.md`), `${markdown}\n`);
  writeFileSync(join(benchDir, 'results', 'profile-latest.md'), `${markdown}\n`);
  ctx.log('wrote results/profile-latest.md');
}

function renderSection(kind: ServerKind, s: ProfileSummary, file: string, cpuUsPerDelivery: number, deliveries: number) {
  const row = (r: ProfileSummary['top'][number]) => `| ${r.fn} | ${r.where} | ${r.area} | ${r.selfPct.toFixed(1)} | ${r.totalPct.toFixed(1)} |`;
  const head = ['| function | where | area | self % | total % |', '|---|---|---|---:|---:|'];
  return [
    `## ${kind}`,
    '',
    `${deliveries.toLocaleString('en-US')} deliveries, ${cpuUsPerDelivery.toFixed(2)} µs server CPU per delivery (with the profiler on); ` +
      `${s.busyMs.toFixed(0)} ms busy, ${s.idleMs.toFixed(0)} ms idle sampled${s.windowed ? ' in the burst windows' : ' (whole profile: windows did not match)'}. File: \`${file}\`.`,
    '',
    `By area (self time): ${s.areas.map((a) => `${a.area} ${a.selfPct.toFixed(1)}%`).join(', ')}.`,
    '',
    'Top by self time:',
    '',
    ...head,
    ...s.top.map(row),
    '',
    'Top by inclusive time:',
    '',
    ...head,
    ...s.topInclusive.map(row),
    '',
  ].join('\n');
}
