import { limits, modelCheck, project, target } from './extrapolation.ts';
import type { ScaleConfig } from './scaleConfig.ts';
import { scaleFigures } from './scaleFigures.ts';
import { type ScaleResults, sum } from './scaleResults.ts';

const MiB = 2 ** 20;

function n(value: number | undefined, digits = 0): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

const mib = (bytes: readonly number[] | undefined) =>
  bytes ? bytes.map((b) => n(b / MiB)).join(' / ') : '—';

/** The scale run as Markdown: figures, then the extrapolation with its assumptions and blind spots. */
export function scaleMarkdown(results: ScaleResults, config: ScaleConfig): string {
  const f = scaleFigures(results);
  const env = results.environment;
  const c = results.connect;
  const lines: string[] = [];
  lines.push(
    `## Scale: ${n(config.connections)} subscribed connections, ${config.instances} instances, one Redis (issue 15)`,
  );
  lines.push('');
  lines.push(
    `Run ${results.startedAt} (${n((results.durationMs ?? 0) / 1000)} s), \`pnpm bench:scale\`` +
      `${config.full ? '' : ` with SCALE_CONNECTIONS=${config.connections}`}. Phases reached: ${results.phases.join(' → ')}.`,
  );
  lines.push('');
  lines.push(
    `Setup: ${config.instances} Switchboard processes (the bench server, \`createRedisBroker\`, JWT auth, history on, ` +
      `no presence on the bench channel), one \`redis-server\` (no persistence), ${config.loadgens} load-generator processes ` +
      `(${n(Math.ceil(config.connections / config.loadgens))} sockets each, ${n(Math.floor(config.handshakesInFlight / config.loadgens))} handshakes in flight each), ` +
      `all on 127.0.0.1. Every socket is its own user and sends what \`@trpc/client\`'s wsLink sends to subscribe; all are on one channel ` +
      `(\`${String(results.config.channel)}\`), socket *i* on instance *i* mod ${config.instances}. A broadcast is one \`channel.publish\` ` +
      `mutation from a client on instance 0; times are wall clock (publish → first/last delivery seen by any load generator).`,
  );
  lines.push('');
  lines.push('| Figure | Value |');
  lines.push('| --- | ---: |');
  const row = (label: string, value: string) => lines.push(`| ${label} | ${value} |`);
  row('Connections subscribed (`$live` received)', c ? `${n(c.live)} of ${n(c.requested)}` : '—');
  row('Connections per instance', c ? c.perInstance.map((v) => n(v)).join(' / ') : '—');
  row('Connect + subscribe, all connections [s]', n(f.connectSeconds, 1));
  row('Connect rate [connections/s]', n(f.connectsPerSec));
  if (c?.progress.length) {
    // From the 5 s progress polls: a rate that falls off shows here (other work on the machine, heartbeats).
    const reachedAt = (share: number) => c.progress.find((p) => p.live >= share * c.requested)?.atMs;
    row(
      'Time until 25 / 50 / 75% subscribed (5 s polls) [s]',
      [0.25, 0.5, 0.75].map((share) => n((reachedAt(share) ?? Number.NaN) / 1000)).join(' / '),
    );
  }
  row('Instance CPU per connect + subscribe (all instances) [µs]', n(f.serverCpuPerConnectUs));
  row(
    'Redis CPU per connect + subscribe [µs]',
    `${n(f.redisCpuPerConnectUs, 1)} (${n(f.redisScriptsPerConnect, 2)} script calls per connection)`,
  );
  row('Load generator CPU per connect + subscribe [µs]', n(f.loadgenCpuPerConnectUs));
  row('RSS per instance, before connecting (after GC) [MiB]', mib(results.baseline?.instanceRssBytes));
  row('RSS per instance, all subscribed (after GC) [MiB]', mib(results.afterConnect?.instanceRssBytes));
  row('RSS per instance, after the broadcasts (no GC) [MiB]', mib(results.afterBroadcasts?.instanceRssBytes));
  row('RSS per subscribed connection (instances) [KiB]', n(f.rssPerConnectionKiB, 1));
  row('V8 heap per subscribed connection [KiB]', n(f.heapPerConnectionKiB, 1));
  row(
    'Kernel TCP buffer memory per connection, both loopback ends [KiB]',
    Math.abs(f.kernelTcpPerConnectionKiB) < 0.5
      ? `≈ 0 (${n(f.kernelTcpPerConnectionKiB, 2)}: idle sockets hold no buffers)`
      : n(f.kernelTcpPerConnectionKiB, 2),
  );
  row(
    'redis-server RSS: before → all subscribed → after broadcasts [MiB]',
    `${n((results.baseline?.redisRssBytes ?? Number.NaN) / MiB, 1)} → ${n((results.afterConnect?.redisRssBytes ?? Number.NaN) / MiB, 1)} → ${n((results.afterBroadcasts?.redisRssBytes ?? Number.NaN) / MiB, 1)}`,
  );
  row('Instance CPU while idle (heartbeats), per instance [% of a core]', n(f.idleCpuShare * 100, 1));
  if (f.firstBroadcast) {
    row(
      'First broadcast: publish → first / last delivery [ms]',
      `${n(f.firstBroadcast.firstMs, 1)} / ${n(f.firstBroadcast.lastMs, 1)}`,
    );
  }
  row(
    `Median of ${f.broadcastsMeasured} broadcasts: publish → first / last delivery [ms]`,
    `${n(f.medianFirstMs, 1)} / ${n(f.medianLastMs, 1)} (last: ${n(f.minLastMs)}–${n(f.maxLastMs)})`,
  );
  row(
    'Broadcasts delivered to every subscribed connection',
    `${f.broadcastsComplete} of ${f.broadcastsMeasured}` +
      (results.broadcasts.length ? ` (${n(results.broadcasts[0]!.expected)} each)` : ''),
  );
  row('Instance CPU per broadcast, all instances (median) [ms]', n(f.serverCpuPerBroadcastMs));
  row('Instance CPU per delivery [µs]', n(f.serverCpuPerDeliveryUs, 2));
  row(
    'redis-server CPU per broadcast (median): publish script / window − idle background / whole window [µs]',
    `${n(f.redisScriptPerBroadcastUs)} / ${n(f.redisCpuPerBroadcastEstimateUs)} / ${n(f.redisCpuPerBroadcastUs)}`,
  );
  row('redis-server CPU while idle [% of a core]', n(f.redisIdleCpuShare * 100, 2));
  row('Load generator CPU per delivery [µs]', n(f.loadgenCpuPerDeliveryUs, 2));
  row('Delivered message size [bytes]', n(f.messageBytes));
  lines.push('');
  if (results.broadcasts.length) {
    lines.push(
      'Per broadcast: publish → last delivery [ms]; instance CPU per instance [ms]; redis-server CPU [µs]:',
    );
    lines.push('');
    for (const b of results.broadcasts) {
      lines.push(
        `- #${b.seq}: ${n(b.delivered)}/${n(b.expected)}, first ${n(b.firstDeliveryMs, 1)}, last ${n(b.lastDeliveryMs, 1)}; ` +
          `instances ${b.instanceCpuMs.map((v) => n(v)).join(' / ')} (Σ ${n(sum(b.instanceCpuMs))}); redis ${n(b.redisCpuMs * 1000)}`,
      );
    }
    lines.push('');
  }
  lines.push(
    `Machine: ${String(env.cpus)} × ${String(env.cpuModel)}, ${String(env.memoryGiB)} GiB, Linux ${String(env.kernel)}, ` +
      `open files ${String(env.openFilesHardLimit)} per process, ephemeral ports ${String(env.ephemeralPortRange)}; ` +
      `load average ${String(env.loadBefore)} before, ${String(env.loadAfter ?? '—')} after. Instances, load generators and ` +
      `Redis share these cores (with other engineers' work), so every time above includes the load generators' ` +
      `own CPU; CPU per operation is the steadier figure. Switchboard server: ${String(env.switchboardServer)}.`,
  );
  lines.push('');
  if (results.notes.length) {
    lines.push('Notes:');
    lines.push('');
    for (const note of results.notes) lines.push(`- ${note}`);
    lines.push('');
  }
  if (results.instanceLogLines?.some((x) => x > 0)) {
    lines.push(
      `Instance log lines (warnings/errors): ${results.instanceLogLines.join(' / ')} (bench/results/scale-logs/).`,
    );
    lines.push('');
  }
  if (Number.isFinite(f.serverCpuPerDeliveryUs) && f.connections > 0)
    lines.push(...extrapolationMarkdown(results));
  return lines.join('\n');
}

function extrapolationMarkdown(results: ScaleResults): string[] {
  const f = scaleFigures(results);
  const check = modelCheck(f, Number(results.environment.cpus) || 2);
  const lim = limits(f);
  const counts = [f.connections, 1_000_000, Math.min(lim.byMemory, lim.byBroadcastGoal)].filter(
    (v, i, all) => v > 0 && all.indexOf(v) === i,
  );
  const out: string[] = [];
  out.push(`### Extrapolation to ${target.cores} cores and to a Redis Cluster`);
  out.push('');
  out.push(
    'Measured costs it starts from (this run): ' +
      `${n(f.serverCpuPerDeliveryUs, 2)} µs of instance CPU per delivery; ${n(f.serverCpuPerConnectUs)} µs of instance CPU and ` +
      `${n(f.redisCpuPerConnectUs, 1)} µs of Redis CPU per connect + subscribe; ${n(f.redisCpuPerBroadcastEstimateUs)} µs ` +
      `of Redis CPU per broadcast (${f.instances} subscribing instances; at most ${n(f.redisCpuPerBroadcastUs)} counting all of Redis's background in the window); ${n(f.rssPerConnectionKiB, 1)} KiB of instance RSS and ` +
      `${n(Math.max(0, f.kernelTcpPerConnectionKiB / 2), 2)} KiB of kernel TCP memory (half the loopback figure) per connection; ` +
      `${n(f.baselineRssMiB)} MiB per empty instance; publish → first delivery ${n(f.medianFirstMs, 1)} ms.`,
  );
  out.push('');
  out.push(
    `Model: a broadcast reaches the last subscriber after the first-delivery time plus one instance's share of the deliveries ` +
      `at the measured CPU per delivery (an instance's fan-out runs on one event loop; instances run in parallel, one per core). ` +
      `Checked on this machine, where ${n(Number(results.environment.cpus))} cores serve instances and load generators alike: ` +
      `(instance + load generator CPU per broadcast) ÷ cores + first delivery predicts ${n(check.predictedLastMs)} ms; ` +
      `measured ${n(check.measuredLastMs)} ms.`,
  );
  out.push('');
  out.push(
    `**${target.cores}-core machine**, assumed: ${target.instances} instances (one per core), Redis and the kernel's network work on the ` +
      `other 2, ${target.memoryGiB} GiB of which ${target.usableMemoryShare * 100}% for the instances, clients on other machines, ` +
      `${target.networkGbitPerSec} Gbit/s network, same CPU speed per core as here.`,
  );
  out.push('');
  out.push(
    '| Connections | per instance | broadcast: last delivery | broadcasts/s to all (instance CPU bound) | reconnect all: instance CPU ÷ 30 cores | reconnect all: Redis (one core) | wire per broadcast | memory |',
  );
  out.push('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const count of counts) {
    const p = project(f, count);
    out.push(
      `| ${n(p.connections)} | ${n(p.perInstance)} | ${n(p.broadcastLastMs)} ms | ${n(p.broadcastsPerSecToAll, 1)} | ` +
        `${n(p.reconnectAllInstanceSec, 1)} s | ${n(p.reconnectAllRedisSec, 1)} s | ${n(p.wireMiB, 1)} MiB = ${n(p.wireMs)} ms | ${n(p.memoryGiB, 1)} GiB |`,
    );
  }
  out.push('');
  out.push(
    `Limits on that machine: memory holds about ${n(lim.byMemory)} connections; one broadcast reaches about ` +
      `${n(lim.byBroadcastGoal)} within ${n(target.broadcastGoalMs)} ms by instance CPU, and ${n(lim.byWireGoal)} by the ` +
      `${target.networkGbitPerSec} Gbit/s wire (one ${n(f.messageBytes)}-byte message plus headers per connection)` +
      (lim.byWireGoal < lim.byBroadcastGoal
        ? ", so the network, not the instances' CPU, sets the broadcast time at that size unless messages get smaller. "
        : '. ') +
      'Each instance then needs an open-files limit above its share ' +
      `(here the hard limit is ${String(results.environment.openFilesHardLimit)} per process), and the clients need many source addresses ` +
      '(one address gives one instance port at most ~28,000 connections).',
  );
  out.push('');
  out.push(
    '**Redis Cluster.** The Redis broker keeps every key of a channel under one hash tag (`sb:{<channel>}:…`), so a channel ' +
      'lives on one shard: its publish script, its sharded pub/sub (`SPUBLISH`, one `SSUBSCRIBE` per instance on that shard, ' +
      'through one sharded-subscriber connection per shard and instance) and the position read every subscribe makes ' +
      `(${n(f.redisScriptsPerConnect, 2)} Redis script calls per connection here). So:`,
  );
  out.push('');
  out.push(
    `- *One hot channel does not spread.* A broadcast costs Redis one script plus one message per subscribing instance on one ` +
      `shard (about ${n(f.redisCpuPerBroadcastEstimateUs)} µs with ${f.instances} instances here; the per-instance part grows with ${target.instances}), ` +
      `whatever the cluster's size. The fan-out to sockets is the instances' work and is the same with or without a cluster. ` +
      `A reconnect storm of every client of that channel puts all its subscribe-time reads on that one shard ` +
      `(the "Redis (one core)" column above).`,
  );
  out.push(
    '- *Many channels do spread.* Channels hash to slots over all shards, so publish rate, history, subscribe-time reads and ' +
      'Redis memory scale with the number of shards as long as no channel dominates. An instance subscribes per shard where ' +
      'it has channels, so pub/sub connections grow as instances × shards.',
  );
  out.push(
    `- Redis is far from the limit in this run: about ${n(f.redisCpuPerBroadcastEstimateUs)} µs per broadcast is ` +
      `${n(1e6 / f.redisCpuPerBroadcastEstimateUs)} broadcasts/s on one core (${n(1e6 / f.redisCpuPerBroadcastUs)}/s even at the ` +
      `upper bound, and ${n(1e6 / f.redisCpuPerBroadcastUs / (target.instances / f.instances))}/s if all of that grew ` +
      `${target.instances / f.instances}-fold with ${target.instances} instances), against ` +
      `${n(project(f, f.connections).broadcastsPerSecToAll, 1)} broadcasts/s to ${n(f.connections)} that ${target.instances} ` +
      'instance cores could fan out. A cluster matters for many busy channels and for subscribe storms, not for the ' +
      'latency of one broadcast.',
  );
  out.push('');
  out.push(
    '**What this cannot know.** Loopback is not a network: here one `write` also runs the receiving TCP stack, and there ' +
      'is no NIC, interrupt spreading, RTT or packet loss; slow or distant clients fill send buffers (1 MiB → close 1013) and ' +
      'change the fan-out. Thirty processes on one machine share memory bandwidth, caches and possibly NUMA nodes; larger heaps ' +
      'make GC pauses longer; the kernel with a million sockets and the client side at that scale were not measured. The ' +
      'figures are one run on a shared 2-core machine (see the load average). Presence is off on the bench channel: with ' +
      'presence, every join on a channel of N members is itself a broadcast to N, so filling one 100,000-member channel ' +
      'costs ~N²/2 deliveries; large audiences need presence off or a channel per room. One publisher sends one event at a ' +
      'time here: concurrent publishes to many channels were not measured.',
  );
  out.push('');
  return out;
}
