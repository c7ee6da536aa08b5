import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { killAllChildren, type NodeChild, startNode } from '../orchestrator/children.ts';
import { loadAverage, machine } from '../orchestrator/environment.ts';
import { readProc } from '../orchestrator/procStat.ts';
import { startRedis } from '../orchestrator/redisServer.ts';
import { type Instance, scaleLogDir, startInstance } from './instances.ts';
import { tcpSockstat } from './kernelSockets.ts';
import { commandDelta, connectRedisStats } from './redisStats.ts';
import { SCALE_CHANNEL, scaleConfigFromEnv } from './scaleConfig.ts';
import type { BroadcastSample, ScaleResults } from './scaleResults.ts';
import { sum } from './scaleResults.ts';
import type { ConnectReport, DeliveryReport } from './subscriberPool.ts';
import { writeScaleResults } from './writeScaleResults.ts';

/**
 * `pnpm bench:scale` (issue 15): `SCALE_CONNECTIONS` (100,000) subscribed WebSocket connections over
 * `SCALE_INSTANCES` (6) Switchboard processes on one redis-server, all on one channel, held by several
 * load-generator processes; then broadcasts to all of them. Reports connect time and rate, RSS per
 * instance, time from publish to the first and last delivery, CPU of every instance and of Redis, and an
 * extrapolation to a bigger machine and a Redis Cluster. Everything runs on 127.0.0.1, every phase is
 * bounded, and the run stops by itself (children killed by pid, also on failure and Ctrl-C).
 */
const config = scaleConfigFromEnv(process.env);
const started = Date.now();
const results: ScaleResults = {
  startedAt: new Date().toISOString(),
  config: { ...config, channel: SCALE_CHANNEL },
  environment: {
    ...machine(),
    ephemeralPortRange: readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim(),
  },
  phases: [],
  notes: [],
  broadcasts: [],
};

function log(message: string) {
  const elapsed = ((Date.now() - started) / 1000).toFixed(0).padStart(4);
  process.stdout.write(`[scale ${elapsed}s] ${message}\n`);
}

function remainingMs(): number {
  return started + config.deadlineMs - Date.now();
}

function phase(name: string) {
  results.phases.push(name);
  log(`── ${name}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const cpuOf = (pids: number[]) => pids.map((pid) => readProc(pid).cpuMs);
const diff = (after: number[], before: number[]) => after.map((v, i) => v - before[i]!);
const MiB = 2 ** 20;

let finished = false;
function finish(code: number): void {
  if (finished) return;
  finished = true;
  results.finishedAt = new Date().toISOString();
  results.durationMs = Date.now() - started;
  results.environment.loadAfter = loadAverage();
  results.instanceLogLines = countLogLines();
  killAllChildren();
  try {
    const written = writeScaleResults(results, config);
    log(`wrote ${written.join(', ')}`);
  } catch (error) {
    log(`writing results failed: ${(error as Error).stack}`);
    code = 1;
  }
  process.exit(code);
}

function countLogLines(): number[] {
  if (!existsSync(scaleLogDir)) return [];
  return readdirSync(scaleLogDir)
    .sort()
    .map((file) => readFileSync(join(scaleLogDir, file), 'utf8').split('\n').filter(Boolean).length);
}

// The whole run is bounded: at the deadline everything is killed and what was measured is written.
const hardStop = setTimeout(() => {
  log('deadline reached: stopping');
  results.notes.push(`Run stopped at its ${config.deadlineMs / 1000} s deadline; later phases are missing.`);
  finish(1);
}, config.deadlineMs);
hardStop.unref();

async function main() {
  log(
    `${config.connections} connections, ${config.instances} instances, ${config.loadgens} load generators ` +
      `(${Math.ceil(config.connections / config.loadgens)} sockets each); load average ${loadAverage()}`,
  );
  rmSync(scaleLogDir, { recursive: true, force: true });

  phase('redis-server and instances');
  const redis = await startRedis();
  const stats = await connectRedisStats(redis.url);
  const instances: Instance[] = await Promise.all(
    Array.from({ length: config.instances }, (_, i) => startInstance(i, redis.url, config.maxOldSpaceMiB)),
  );
  const instancePids = instances.map((s) => s.pid);
  const ports = instances.map((s) => s.port);
  results.instances = instances.map((s) => ({ pid: s.pid, port: s.port }));
  const loadgens: NodeChild[] = Array.from({ length: config.loadgens }, (_, i) =>
    startNode(`scale-loadgen-${i}`, 'scale/loadgenMain.ts', [], {
      nodeFlags: [`--max-old-space-size=${config.maxOldSpaceMiB}`],
    }),
  );
  const loadgenPids = loadgens.map((l) => l.pid);
  // Loaded before anything is measured: module loading would otherwise count as connect cost.
  await Promise.all(loadgens.map((l) => l.ipc.call('ready', undefined, 60_000)));

  phase('baseline memory');
  const baseMemory = [];
  for (const instance of instances) baseMemory.push(await instance.memoryAfterGc(30_000));
  const baseRedis = await stats.snapshot();
  results.baseline = {
    instanceRssBytes: baseMemory.map((m) => m.rssBytes),
    instanceHeapBytes: baseMemory.map((m) => m.heapUsedBytes),
    redisRssBytes: readProc(redis.pid).rssBytes,
    redisUsedMemoryBytes: baseRedis.usedMemoryBytes,
    kernelTcpMemBytes: tcpSockstat().memBytes,
  };

  phase('connect');
  const shares = Array.from(
    { length: config.loadgens },
    (_, i) =>
      Math.floor(((i + 1) * config.connections) / config.loadgens) -
      Math.floor((i * config.connections) / config.loadgens),
  );
  const inFlight = Math.max(1, Math.floor(config.handshakesInFlight / config.loadgens));
  const connectTimeoutMs = Math.max(10_000, Math.min(config.connectTimeoutMs, remainingMs() - 120_000));
  const connectCpu = cpuOf(instancePids);
  const connectLoadgenCpu = cpuOf(loadgenPids);
  const redisBeforeConnect = await stats.snapshot();
  const redisCpuBeforeConnect = await stats.cpuMs();
  const connectStarted = performance.now();
  const progress: { atMs: number; live: number }[] = [];
  const poll = setInterval(() => {
    void Promise.all(
      loadgens.map((l) => l.ipc.call<{ live: number; failed: number }>('status', undefined, 4_000)),
    )
      .then((all) => {
        const live = sum(all.map((s) => s.live));
        const failed = sum(all.map((s) => s.failed));
        const atMs = performance.now() - connectStarted;
        progress.push({ atMs, live });
        log(`  ${live} subscribed, ${failed} failed (${((live / atMs) * 1000).toFixed(0)}/s)`);
      })
      .catch(() => {});
  }, 5_000);
  let firstIndex = 0;
  const reports = await Promise.all(
    loadgens.map((loadgen, i) => {
      const spec = {
        ports,
        firstIndex,
        count: shares[i]!,
        channel: SCALE_CHANNEL,
        inFlight,
        timeoutMs: connectTimeoutMs,
      };
      firstIndex += shares[i]!;
      return loadgen.ipc.call<ConnectReport>('connect', spec, connectTimeoutMs + 30_000);
    }),
  );
  clearInterval(poll);
  const connectElapsedMs = performance.now() - connectStarted;
  const redisCpuConnect = (await stats.cpuMs()) - redisCpuBeforeConnect;
  const redisAfterConnect = await stats.snapshot();
  const live = sum(reports.map((r) => r.live));
  // Socket i of the run went to instance i % instances; failures are spread alike, so this is close.
  const perInstance = instances.map((_, k) =>
    Math.round(
      sum(
        reports.map((r, i) => {
          const first = sum(shares.slice(0, i));
          let assigned = 0;
          for (let n = 0; n < shares[i]!; n++) if ((first + n) % config.instances === k) assigned++;
          return (assigned * r.live) / Math.max(1, shares[i]!);
        }),
      ),
    ),
  );
  results.connect = {
    requested: config.connections,
    live,
    failed: sum(reports.map((r) => r.failed)),
    dropped: sum(reports.map((r) => r.dropped)),
    pending: sum(reports.map((r) => r.pending)),
    elapsedMs: connectElapsedMs,
    connectionsPerSec: (live / connectElapsedMs) * 1000,
    progress,
    perLoadgen: reports,
    instanceCpuMs: diff(cpuOf(instancePids), connectCpu),
    redisCpuMs: redisCpuConnect,
    loadgenCpuMs: sum(diff(cpuOf(loadgenPids), connectLoadgenCpu)),
    redisCommands: commandDelta(redisBeforeConnect, redisAfterConnect),
    perInstance,
  };
  log(
    `${live}/${config.connections} subscribed in ${(connectElapsedMs / 1000).toFixed(1)} s ` +
      `(${results.connect.connectionsPerSec.toFixed(0)}/s); failed ${results.connect.failed}, pending ${results.connect.pending}`,
  );
  const notAttempted = config.connections - sum(reports.map((r) => r.attempted));
  if (live < config.connections) {
    results.notes.push(
      `Only ${live} of ${config.connections} connections were subscribed within ${connectTimeoutMs / 1000} s ` +
        `(failed ${results.connect.failed}, dropped after subscribing ${results.connect.dropped}, ` +
        `still handshaking ${results.connect.pending - notAttempted}, never attempted ${notAttempted}); ` +
        `errors: ${JSON.stringify(Object.assign({}, ...reports.map((r) => r.errors)))}. The broadcasts below went to ` +
        'the connections live when each was published (those still handshaking may have joined meanwhile).',
    );
  }
  if (live === 0) throw new Error('no connection could be subscribed');

  phase('memory after connect');
  await sleep(2_000);
  const rssBeforeGc = instancePids.map((pid) => readProc(pid).rssBytes);
  const afterMemory = [];
  for (const instance of instances) afterMemory.push(await instance.memoryAfterGc(60_000));
  const redisAfter = await stats.snapshot();
  const sockets = tcpSockstat();
  results.afterConnect = {
    instanceRssBytes: afterMemory.map((m) => m.rssBytes),
    instanceHeapBytes: afterMemory.map((m) => m.heapUsedBytes),
    instanceRssBeforeGcBytes: rssBeforeGc,
    redisRssBytes: readProc(redis.pid).rssBytes,
    redisUsedMemoryBytes: redisAfter.usedMemoryBytes,
    redisClients: redisAfter.connectedClients,
    kernelTcpMemBytes: sockets.memBytes,
    kernelTcpSockets: sockets.inUse,
  };
  log(
    `RSS per instance ${afterMemory.map((m) => (m.rssBytes / MiB).toFixed(0)).join(' / ')} MiB; ` +
      `redis ${(results.afterConnect.redisRssBytes / MiB).toFixed(0)} MiB`,
  );

  phase('idle window');
  const idleCpu = cpuOf(instancePids);
  const idleRedis = await stats.cpuMs();
  const idleStarted = performance.now();
  await sleep(config.idleWindowMs);
  results.idle = {
    windowMs: performance.now() - idleStarted,
    instanceCpuMs: diff(cpuOf(instancePids), idleCpu),
    redisCpuMs: (await stats.cpuMs()) - idleRedis,
  };

  phase('broadcasts');
  for (let seq = 1; seq <= config.broadcasts; seq++) {
    if (remainingMs() < config.broadcastTimeoutMs + 30_000) {
      results.notes.push(`Broadcasts stopped after ${seq - 1} (time budget).`);
      break;
    }
    const cycleStarted = performance.now();
    const armed = await Promise.all(loadgens.map((l) => l.ipc.call<{ expected: number }>('arm', { seq })));
    const cpuBefore = cpuOf(instancePids);
    const loadgenBefore = cpuOf(loadgenPids);
    const redisBefore = await stats.snapshot();
    const redisCpuBefore = await stats.cpuMs();
    const windowStarted = performance.now();
    const published = await loadgens[0]!.ipc.call<{ publishedAt: number; answeredAt: number }>(
      'publish',
      { port: ports[0], seq, timeoutMs: 10_000 },
      15_000,
    );
    const delivered = await Promise.all(
      loadgens.map((l) =>
        l.ipc.call<DeliveryReport>(
          'deliveries',
          { timeoutMs: config.broadcastTimeoutMs },
          config.broadcastTimeoutMs + 10_000,
        ),
      ),
    );
    const windowMs = performance.now() - windowStarted;
    const instanceCpuMs = diff(cpuOf(instancePids), cpuBefore);
    const loadgenCpuMs = sum(diff(cpuOf(loadgenPids), loadgenBefore));
    const redisCpuMs = (await stats.cpuMs()) - redisCpuBefore;
    const redisAfterBroadcast = await stats.snapshot();
    const reached = delivered.filter((d) => d.delivered > 0);
    const sample: BroadcastSample = {
      seq,
      expected: sum(armed.map((a) => a.expected)),
      delivered: sum(delivered.map((d) => d.delivered)),
      complete: delivered.every((d) => d.complete),
      firstDeliveryMs: Math.min(...reached.map((d) => d.firstAt)) - published.publishedAt,
      lastDeliveryMs: Math.max(...reached.map((d) => d.lastAt)) - published.publishedAt,
      publishAnsweredMs: published.answeredAt - published.publishedAt,
      windowMs,
      instanceCpuMs,
      redisCpuMs,
      loadgenCpuMs,
      redisCommands: commandDelta(redisBefore, redisAfterBroadcast),
      messageBytes: Math.max(...delivered.map((d) => d.messageBytes)),
    };
    results.broadcasts.push(sample);
    log(
      `broadcast ${seq}: ${sample.delivered}/${sample.expected} delivered, first ${sample.firstDeliveryMs.toFixed(1)} ms, ` +
        `last ${sample.lastDeliveryMs.toFixed(1)} ms; instances ${sum(instanceCpuMs).toFixed(0)} ms CPU, ` +
        `redis ${sample.redisCpuMs.toFixed(2)} ms`,
    );
    if (!sample.complete)
      results.notes.push(`Broadcast ${seq}: ${sample.delivered} of ${sample.expected} delivered.`);
    await sleep(config.broadcastSpacingMs - (performance.now() - cycleStarted));
  }

  phase('memory after broadcasts');
  results.afterBroadcasts = {
    instanceRssBytes: instancePids.map((pid) => readProc(pid).rssBytes),
    redisRssBytes: readProc(redis.pid).rssBytes,
  };
  phase('done');
  await Promise.all(loadgens.map((l) => l.ipc.call('close', undefined, 10_000).catch(() => {})));
  stats.close();
  await redis.stop();
}

main().then(
  () => finish(0),
  (error: Error) => {
    log(`failed: ${error.stack ?? error}`);
    results.notes.push(
      `Run failed during "${results.phases.at(-1)}": ${error.message.split('\n')[0]!.slice(0, 400)}`,
    );
    finish(1);
  },
);
