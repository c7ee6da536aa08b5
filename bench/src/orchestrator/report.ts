import { M } from './metricCatalog.ts';
import { type Metric, median, type RunResults, type SystemId, type TargetOutcome } from './results.ts';

const COLUMNS = ['raw', 'pre', 'sio', 'sb', 'sse'] as const;
const HEADERS = [
  'Figure',
  'raw ws (reference)',
  'ws, pre-encoded frame',
  'Socket.IO 4.8',
  'Switchboard',
  'Switchboard, SSE',
];

function systemFor(metric: Metric, column: (typeof COLUMNS)[number]): SystemId | undefined {
  if (!metric.redis) return column;
  return column === 'raw' || column === 'sio' || column === 'sb'
    ? (`${column}-redis` as SystemId)
    : undefined;
}

function format(value: number, digits: number): string {
  if (!Number.isFinite(value)) return '—';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/**
 * One cell: the median, and its ratio to the raw reference of the same run (for Redis rows, to the raw
 * reference forwarding through Redis pub/sub).
 */
function cell(metric: Metric, column: (typeof COLUMNS)[number]): string {
  const system = systemFor(metric, column);
  if (!system) return 'n/a';
  const samples = metric.samples[system];
  const value = median(samples);
  if (!Number.isFinite(value)) return '—';
  let text = format(value, metric.digits);
  const baseSystem = metric.redis ? 'raw-redis' : 'raw';
  const base = median(metric.samples[baseSystem]);
  if (system !== baseSystem && Number.isFinite(base) && base !== 0 && metric.unit !== '%') {
    const limit = median(metric.samples.pre);
    const vsLimit =
      metric.vsPreEncoded && (system === 'sb' || system === 'sse') && Number.isFinite(limit) && limit !== 0
        ? `, ${(value / limit).toFixed(2)}× pre`
        : '';
    text += ` (${(value / base).toFixed(2)}×${vsLimit})`;
  }
  return text;
}

export function tableRows(results: RunResults): string[][] {
  return results.metrics
    .filter((metric) => Object.values(metric.samples).some((s) => s && s.length > 0))
    .map((metric) => [`${metric.label} [${metric.unit}]`, ...COLUMNS.map((c) => cell(metric, c))]);
}

export function markdownTable(results: RunResults): string {
  const rows = tableRows(results);
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(HEADERS), line(HEADERS.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join(
    '\n',
  );
}

export function consoleTable(results: RunResults): string {
  const rows = [HEADERS, ...tableRows(results)];
  const widths = HEADERS.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const render = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [render(rows[0]!), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.slice(1).map(render)].join(
    '\n',
  );
}

/** The targets of issues 8 and 15, judged on this run's medians (each names its issue). */
export function judgeTargets(results: RunResults): TargetOutcome[] {
  const get = (id: string, system: SystemId) =>
    median(results.metrics.find((m) => m.id === id)?.samples[system]);
  const f = (v: number, d = 0) => format(v, d);
  const x = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  const outcome = (
    target: string,
    values: number[],
    pass: () => boolean,
    evidence: string,
  ): TargetOutcome => ({
    target,
    status: values.every(Number.isFinite) ? (pass() ? 'met' : 'missed') : 'not measured',
    evidence,
  });
  const out: TargetOutcome[] = [];

  const [burstRaw, burstSio, burstSb] = (['raw', 'sio', 'sb'] as const).map((s) => get(M.burst, s));
  out.push(
    outcome(
      'Fan-out burst ≥ Socket.IO and ≥ 1.0× raw ws (issue 8)',
      [burstRaw!, burstSio!, burstSb!],
      () => burstSb! >= burstSio! && burstSb! >= burstRaw!,
      `Switchboard ${f(burstSb!)}/s = ${x(burstSb!, burstRaw!)} raw, ${x(burstSb!, burstSio!)} Socket.IO`,
    ),
  );
  const [susRaw, susSio, susSb] = (['raw', 'sio', 'sb'] as const).map((s) => get(M.sustained, s));
  out.push(
    outcome(
      'Highest sustained rate ≥ Socket.IO and ≥ 1.0× raw ws (issue 8)',
      [susRaw!, susSio!, susSb!],
      () => susSb! >= susSio! && susSb! >= susRaw!,
      `Switchboard ${f(susSb!)}/s = ${x(susSb!, susRaw!)} raw, ${x(susSb!, susSio!)} Socket.IO`,
    ),
  );
  const [p99Raw, p99Sio, p99Sb] = (['raw', 'sio', 'sb'] as const).map((s) => get(M.p99, s));
  out.push(
    outcome(
      'p99 latency at 100/s × subscribers ≤ Socket.IO and ≤ 1.5× raw ws (issue 8)',
      [p99Raw!, p99Sio!, p99Sb!],
      () => p99Sb! <= p99Sio! && p99Sb! <= 1.5 * p99Raw!,
      `Switchboard ${f(p99Sb!, 2)} ms = ${x(p99Sb!, p99Raw!)} raw (${f(p99Raw!, 2)}), Socket.IO ${f(p99Sio!, 2)} ms`,
    ),
  );
  const [rssRaw, rssSb, rssSio] = (['raw', 'sb', 'sio'] as const).map((s) => get(M.idleRss, s));
  out.push(
    outcome(
      'Idle RSS per subscribed connection ≤ 1.5× raw ws (issue 8)',
      [rssRaw!, rssSb!],
      () => rssSb! <= 1.5 * rssRaw!,
      `Switchboard ${f(rssSb!, 1)} KiB = ${x(rssSb!, rssRaw!)} raw (${f(rssRaw!, 1)} KiB); Socket.IO ${x(rssSio!, rssRaw!)}`,
    ),
  );
  const [rBurstSio, rBurstSb] = (['sio-redis', 'sb-redis'] as const).map((s) => get(M.redisBurst, s));
  const [rP99Sio, rP99Sb] = (['sio-redis', 'sb-redis'] as const).map((s) => get(M.redisP99, s));
  out.push(
    outcome(
      'Two instances on Redis ≥ Socket.IO + redis-adapter (deliveries/s and p99) (issue 8)',
      [rBurstSio!, rBurstSb!, rP99Sio!, rP99Sb!],
      () => rBurstSb! >= rBurstSio! && rP99Sb! <= rP99Sio!,
      Number.isFinite(rBurstSb!)
        ? `Switchboard ${f(rBurstSb!)}/s p99 ${f(rP99Sb!, 2)} ms; Socket.IO ${f(rBurstSio!)}/s p99 ${f(rP99Sio!, 2)} ms`
        : 'Switchboard Redis broker not available in this run',
    ),
  );
  const [cpuSio, cpuSb, cpuRaw] = (['sio', 'sb', 'raw'] as const).map((s) => get(M.burstCpu, s));
  const [wideSio, wideSb] = (['sio', 'sb'] as const).map((s) => get(M.wideCpu, s));
  out.push(
    outcome(
      'Server CPU per delivery ≤ Socket.IO (1 channel and 100 channels) (issue 8)',
      [cpuSio!, cpuSb!, wideSio!, wideSb!],
      () => cpuSb! <= cpuSio! && wideSb! <= wideSio!,
      `1 channel: Switchboard ${f(cpuSb!, 2)} µs vs Socket.IO ${f(cpuSio!, 2)} µs (raw ${f(cpuRaw!, 2)}); ` +
        `100 channels: ${f(wideSb!, 2)} vs ${f(wideSio!, 2)} µs`,
    ),
  );
  const bigHeld = get(M.bigHeld, 'sb');
  const bigRss = get(M.bigRss, 'sb');
  const bigTarget = (results.config as { bigIdleConnections?: number }).bigIdleConnections ?? 0;
  out.push(
    bigTarget > 0
      ? outcome(
          `${format(bigTarget, 0)} idle subscribed connections on one instance (issue 8)`,
          [bigHeld, bigRss],
          () => bigHeld >= bigTarget,
          `held ${f(bigHeld)} at ${f(bigRss, 1)} KiB RSS each ≈ ${f(2 ** 20 / bigRss)} connections per GiB of RSS`,
        )
      : {
          target: '19,000 idle subscribed connections on one instance (issue 8)',
          status: 'not measured',
          evidence: 'not part of the quick run',
        },
  );

  const [spreadPre, spreadRaw, spreadSb, spreadSse] = (['pre', 'raw', 'sb', 'sse'] as const).map((s) =>
    get(M.spreadCpu, s),
  );
  out.push(
    outcome(
      'Unbatched fan-out: server CPU per delivery ≤ 1.1× the pre-encoded ws frame and ≤ raw ws (issue 15)',
      [spreadPre!, spreadRaw!, spreadSb!],
      () => spreadSb! <= 1.1 * spreadPre! && spreadSb! <= spreadRaw!,
      `Switchboard ${f(spreadSb!, 2)} µs = ${x(spreadSb!, spreadPre!)} pre-encoded (${f(spreadPre!, 2)}), ` +
        `${x(spreadSb!, spreadRaw!)} raw (${f(spreadRaw!, 2)}); over SSE ${f(spreadSse!, 2)} µs`,
    ),
  );
  const [connRaw, connSb, connSio] = (['raw', 'sb', 'sio'] as const).map((s) => get(M.connectRate, s));
  const [connCpuRaw, connCpuSb] = (['raw', 'sb'] as const).map((s) => get(M.connectCpu, s));
  out.push(
    outcome(
      'Connect + subscribe rate ≥ 0.6× raw ws (issue 15)',
      [connRaw!, connSb!],
      () => connSb! >= 0.6 * connRaw!,
      `Switchboard ${f(connSb!)}/s = ${x(connSb!, connRaw!)} raw (${f(connRaw!)}/s), Socket.IO ${x(connSio!, connRaw!)}; ` +
        `server CPU per connect ${f(connCpuSb!)} µs vs raw ${f(connCpuRaw!)} µs`,
    ),
  );
  out.push(
    outcome(
      'Idle RSS per subscribed connection ≤ 1.25× raw ws (issue 15)',
      [rssRaw!, rssSb!],
      () => rssSb! <= 1.25 * rssRaw!,
      `Switchboard ${f(rssSb!, 1)} KiB = ${x(rssSb!, rssRaw!)} raw (${f(rssRaw!, 1)} KiB)`,
    ),
  );
  const lowRate = (results.config as { redisLowRatePublishesPerSecond?: number })
    .redisLowRatePublishesPerSecond;
  const [lowRaw, lowSio, lowSb] = (['raw-redis', 'sio-redis', 'sb-redis'] as const).map((s) =>
    get(M.redisLowP99, s),
  );
  const [lowP50Raw, lowP50Sb] = (['raw-redis', 'sb-redis'] as const).map((s) => get(M.redisLowP50, s));
  out.push(
    outcome(
      `Redis p99 at ${lowRate ?? 10} publishes/s ≤ 1.5× raw ws forwarding through Redis pub/sub (issue 15)`,
      [lowRaw!, lowSb!],
      () => lowSb! <= 1.5 * lowRaw!,
      `Switchboard p99 ${f(lowSb!, 2)} ms = ${x(lowSb!, lowRaw!)} raw ws + Redis (${f(lowRaw!, 2)} ms); ` +
        `p50 ${f(lowP50Sb!, 2)} vs ${f(lowP50Raw!, 2)} ms; Socket.IO p99 ${f(lowSio!, 2)} ms`,
    ),
  );
  return out;
}

export function markdownTargets(targets: TargetOutcome[]): string {
  const mark = { met: '✅ met', missed: '❌ missed', 'not measured': '⚪ not measured' } as const;
  return [
    '| Target | Result | Evidence |',
    '|---|---|---|',
    ...targets.map((t) => `| ${t.target} | ${mark[t.status]} | ${t.evidence} |`),
  ].join('\n');
}

export function markdownReport(results: RunResults): string {
  const env = results.environment;
  const versions = Object.entries(results.versions)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return [
    `## Results ${results.quick ? '(BENCH_QUICK smoke run: single samples, smaller counts)' : ''}`.trim(),
    '',
    `Run ${results.startedAt} (${((results.durationMs ?? 0) / 1000).toFixed(0)} s). Each figure is the median of ` +
      `${(results.config as { repetitions: number }).repetitions} repetition(s) unless marked "one run"; ` +
      'the ratio is to the raw `ws` reference in the same run (Redis rows: to raw `ws` forwarding through Redis pub/sub).',
    '',
    markdownTable(results),
    '',
    markdownTargets(results.targets ?? []),
    '',
    `Machine: ${env.cpus} × ${env.cpuModel}, ${env.memoryGiB} GiB, Linux ${env.kernel}; load average ` +
      `${env.loadBefore} before, ${env.loadAfter} after. Server and load generator share these ${env.cpus} cores ` +
      '(with other work on the machine), so the load generator is part of every throughput figure: CPU time per ' +
      'delivery from /proc/<pid>/stat is the steadier comparison.',
    '',
    `Versions: ${versions}. Switchboard server: ${env.switchboardServer}.`,
    '',
    ...(results.verification.length
      ? [
          `Harness check: ${results.verification.filter((v) => v.ok).length}/${results.verification.length} passed ` +
            `(${results.verification.map((v) => `${v.ok ? '✓' : '✗'} ${v.check}`).join('; ')}).`,
          '',
        ]
      : []),
    ...(results.notes.length ? ['Notes:', '', ...results.notes.map((n) => `- ${n}`), ''] : []),
  ].join('\n');
}
