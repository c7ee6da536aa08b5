import { SCRIPT_COMMANDS } from './redisStats.ts';
import { median, type ScaleResults, sum } from './scaleResults.ts';

const KiB = 1024;

/**
 * The per-unit costs derived from one scale run: what the report prints and what the extrapolation
 * multiplies. CPU in µs, memory in KiB, times in ms. NaN where the run did not get that far.
 */
export interface ScaleFigures {
  connections: number;
  instances: number;
  connectSeconds: number;
  connectsPerSec: number;
  /** All instances' CPU during the connect phase ÷ connections subscribed. */
  serverCpuPerConnectUs: number;
  redisCpuPerConnectUs: number;
  /** Redis script calls (EVALSHA…) per subscribed connection; the commands inside them are not counted. */
  redisScriptsPerConnect: number;
  loadgenCpuPerConnectUs: number;
  /** (RSS after − before, both after two full GCs) summed over instances ÷ connections. */
  rssPerConnectionKiB: number;
  heapPerConnectionKiB: number;
  /** Kernel TCP buffer memory growth ÷ connections; loopback, so both ends of each connection. */
  kernelTcpPerConnectionKiB: number;
  baselineRssMiB: number;
  /** Instance CPU spent while idle (heartbeats, positioning), as a share of one core per instance. */
  idleCpuShare: number;
  firstBroadcast: { firstMs: number; lastMs: number } | undefined;
  medianFirstMs: number;
  medianLastMs: number;
  minLastMs: number;
  maxLastMs: number;
  broadcastsComplete: number;
  broadcastsMeasured: number;
  /** Instance CPU per broadcast (all instances, idle background subtracted) ÷ deliveries. */
  serverCpuPerDeliveryUs: number;
  serverCpuPerBroadcastMs: number;
  /**
   * redis-server CPU in a broadcast's window (INFO cpu), background included: an upper bound, since Redis's
   * own timers and the instances' positioning cost about as much as one broadcast over such a window.
   */
  redisCpuPerBroadcastUs: number;
  /** The window's Redis CPU minus the idle rate over the window, never below the script's own time. */
  redisCpuPerBroadcastEstimateUs: number;
  /** Time Redis spent in the publish script (INFO commandstats, PUBLISH inside it included): a lower bound. */
  redisScriptPerBroadcastUs: number;
  /** redis-server CPU while nothing was published, as a share of its core. */
  redisIdleCpuShare: number;
  loadgenCpuPerDeliveryUs: number;
  messageBytes: number;
}

export function scaleFigures(results: ScaleResults): ScaleFigures {
  const c = results.connect;
  const live = c?.live ?? 0;
  const instances = results.instances?.length ?? 0;
  const base = results.baseline;
  const after = results.afterConnect;
  const idle = results.idle;
  const idleServerPerMs = idle ? sum(idle.instanceCpuMs) / idle.windowMs : 0;
  const idleRedisPerMs = idle ? idle.redisCpuMs / idle.windowMs : 0;
  const samples = results.broadcasts.filter((b) => b.delivered > 0);
  const first = samples[0];
  const scripts = c ? sum(SCRIPT_COMMANDS.map((name) => c.redisCommands[name]?.calls ?? 0)) : Number.NaN;
  return {
    connections: live,
    instances,
    connectSeconds: c ? c.elapsedMs / 1000 : Number.NaN,
    connectsPerSec: c?.connectionsPerSec ?? Number.NaN,
    serverCpuPerConnectUs: c ? (sum(c.instanceCpuMs) * 1000) / live : Number.NaN,
    redisCpuPerConnectUs: c ? (c.redisCpuMs * 1000) / live : Number.NaN,
    redisScriptsPerConnect: scripts / live,
    loadgenCpuPerConnectUs: c ? (c.loadgenCpuMs * 1000) / live : Number.NaN,
    rssPerConnectionKiB:
      base && after ? (sum(after.instanceRssBytes) - sum(base.instanceRssBytes)) / live / KiB : Number.NaN,
    heapPerConnectionKiB:
      base && after ? (sum(after.instanceHeapBytes) - sum(base.instanceHeapBytes)) / live / KiB : Number.NaN,
    kernelTcpPerConnectionKiB:
      base && after ? (after.kernelTcpMemBytes - base.kernelTcpMemBytes) / live / KiB : Number.NaN,
    baselineRssMiB: base ? median(base.instanceRssBytes) / 2 ** 20 : Number.NaN,
    idleCpuShare: idle && instances ? idleServerPerMs / instances : Number.NaN,
    firstBroadcast: first ? { firstMs: first.firstDeliveryMs, lastMs: first.lastDeliveryMs } : undefined,
    medianFirstMs: median(samples.map((b) => b.firstDeliveryMs)),
    medianLastMs: median(samples.map((b) => b.lastDeliveryMs)),
    minLastMs: samples.length ? Math.min(...samples.map((b) => b.lastDeliveryMs)) : Number.NaN,
    maxLastMs: samples.length ? Math.max(...samples.map((b) => b.lastDeliveryMs)) : Number.NaN,
    broadcastsComplete: results.broadcasts.filter((b) => b.complete && b.delivered === b.expected).length,
    broadcastsMeasured: results.broadcasts.length,
    serverCpuPerDeliveryUs: median(
      samples.map((b) => ((sum(b.instanceCpuMs) - idleServerPerMs * b.windowMs) * 1000) / b.delivered),
    ),
    serverCpuPerBroadcastMs: median(samples.map((b) => sum(b.instanceCpuMs) - idleServerPerMs * b.windowMs)),
    redisCpuPerBroadcastUs: median(samples.map((b) => b.redisCpuMs * 1000)),
    redisCpuPerBroadcastEstimateUs: median(
      samples.map((b) =>
        Math.max(
          (b.redisCpuMs - idleRedisPerMs * b.windowMs) * 1000,
          sum(
            SCRIPT_COMMANDS.map(
              (name) => (b.redisCommands[name]?.calls ?? 0) * (b.redisCommands[name]?.usecPerCall ?? 0),
            ),
          ),
        ),
      ),
    ),
    redisScriptPerBroadcastUs: median(
      samples.map((b) =>
        sum(
          SCRIPT_COMMANDS.map(
            (name) => (b.redisCommands[name]?.calls ?? 0) * (b.redisCommands[name]?.usecPerCall ?? 0),
          ),
        ),
      ),
    ),
    redisIdleCpuShare: idleRedisPerMs,
    loadgenCpuPerDeliveryUs: median(samples.map((b) => (b.loadgenCpuMs * 1000) / b.delivered)),
    messageBytes: median(samples.map((b) => b.messageBytes)),
  };
}
