import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configFromEnv } from './config.ts';
import { benchDir, killAllChildren, startNode } from './orchestrator/children.ts';
import { BenchContext } from './orchestrator/context.ts';
import { collectVersions, loadAverage, machine } from './orchestrator/environment.ts';
import { replaceMarkedBlock } from './orchestrator/markedBlock.ts';
import { declareMetrics } from './orchestrator/metricCatalog.ts';
import { consoleTable, judgeTargets, markdownReport } from './orchestrator/report.ts';
import { ResultBook } from './orchestrator/results.ts';
import { serverLogDir } from './orchestrator/servers.ts';
import { fanoutScenario } from './scenarios/fanout.ts';
import { bigIdleScenario, idleScenario } from './scenarios/idle.ts';
import { profileScenario } from './scenarios/profile.ts';
import { redisScenario } from './scenarios/redis.ts';
import { stormScenario } from './scenarios/storm.ts';

/**
 * `pnpm bench`: raw `ws`, Socket.IO 4.8 and Switchboard side by side, each server in its own process,
 * one load generator process, everything on 127.0.0.1 and bounded in time. `BENCH_QUICK=1` for a smoke
 * run; `BENCH_PROFILE=1` to profile the servers' fan-out with `--cpu-prof` instead.
 */
const config = configFromEnv(process.env);
const resultsDir = join(benchDir, 'results');
const benchmarksFile = join(benchDir, '..', 'BENCHMARKS.md');

/** `BENCH_ONLY=idle,redis` runs only those scenarios (while working on one figure); unset runs all.
 * A partial run writes `latest-partial.*` and leaves BENCHMARKS.md alone. */
const only = process.env.BENCH_ONLY?.split(',').map((name) => name.trim());

const book = new ResultBook(config.quick, config);
rmSync(serverLogDir, { recursive: true, force: true });
declareMetrics(book, config);
book.results.environment = machine();
book.results.versions = collectVersions();
const loadgen = startNode('loadgen', 'loadgen/main.ts', []);
const ctx = new BenchContext(config, book, loadgen);
const started = Date.now();

// The whole run is bounded: past the deadline plus a margin, everything is killed and what exists is written.
const hardStop = setTimeout(() => {
  ctx.log('hard time limit reached: stopping');
  book.note('Run stopped at the hard time limit; later figures are missing.');
  finish(1);
}, config.deadlineMs + 30_000);
hardStop.unref();

let finished = false;
function finish(code: number): never | void {
  if (finished) return;
  finished = true;
  const results = book.results;
  results.finishedAt = new Date().toISOString();
  results.durationMs = Date.now() - started;
  results.environment.loadAfter = loadAverage();
  results.targets = judgeTargets(results);

  process.stdout.write(`\n${consoleTable(results)}\n\n`);
  for (const t of results.targets)
    process.stdout.write(`${t.status.padEnd(12)} ${t.target}: ${t.evidence}\n`);
  process.stdout.write(
    `\nServer and load generator share this machine's ${results.environment.cpus} cores; ` +
      'CPU per delivery (from /proc/<pid>/stat) is the steadier figure.\n',
  );
  noteServerLogs();
  for (const note of results.notes) process.stdout.write(`note: ${note}\n`);

  mkdirSync(resultsDir, { recursive: true });
  const stamp = results.startedAt.replace(/[:.]/g, '-');
  const suffix = config.quick ? '-quick' : only ? '-partial' : '';
  const markdown = markdownReport(results);
  const json = `${JSON.stringify(results, null, 2)}\n`;
  writeFileSync(join(resultsDir, `${stamp}${suffix}.json`), json);
  writeFileSync(join(resultsDir, `${stamp}${suffix}.md`), `${markdown}\n`);
  writeFileSync(join(resultsDir, `latest${suffix}.json`), json);
  writeFileSync(join(resultsDir, `latest${suffix}.md`), `${markdown}\n`);
  // The method and analysis around the generated block are written by hand.
  if (!suffix) replaceMarkedBlock(benchmarksFile, 'results', markdown);
  process.stdout.write(
    `\nwrote ${join(resultsDir, `latest${suffix}.md`)} and .json${suffix ? '' : ', BENCHMARKS.md'}\n`,
  );
  killAllChildren();
  process.exit(code);
}

/** Server warnings went to files (see servers.ts); say how many, so none goes unnoticed. */
function noteServerLogs() {
  if (!existsSync(serverLogDir)) return;
  for (const file of readdirSync(serverLogDir)) {
    const lines = readFileSync(join(serverLogDir, file), 'utf8').split('\n').filter(Boolean).length;
    if (lines > 0)
      book.note(
        `${file}: the servers logged ${lines} lines (warnings/errors), see bench/results/logs/${file}`,
      );
  }
}

async function step(name: string, run: (ctx: BenchContext) => Promise<void>, id: string) {
  if (only && !only.includes(id)) return;
  if (!ctx.hasTime(30_000)) {
    book.note(`${name} skipped: time budget`);
    return;
  }
  ctx.log(`── ${name}`);
  try {
    await run(ctx);
  } catch (error) {
    const message = (error as Error).stack ?? String(error);
    ctx.log(`${name} failed: ${message}`);
    book.note(`${name} failed: ${(error as Error).message.slice(0, 400)}`);
  }
}

ctx.log(`${config.quick ? 'quick smoke run' : 'full run'}; load average ${loadAverage()}`);
if (process.env.BENCH_PROFILE === '1') {
  await step('profile (--cpu-prof) of the fan-out', profileScenario, 'profile');
  killAllChildren();
  process.exit(0);
}
await step('fan-out and latency, 1 channel', fanoutScenario, 'fanout');
await step('idle memory and 100-channel fan-out', idleScenario, 'idle');
if (config.bigIdleConnections > 0) {
  await step(`${config.bigIdleConnections} idle connections`, bigIdleScenario, 'bigIdle');
}
await step('two instances on Redis', redisScenario, 'redis');
await step('reconnect storm', stormScenario, 'storm');
finish(0);
