import { monitorEventLoopDelay } from 'node:perf_hooks';
import { type DashboardEvent, dashboardStatsChannel, type InstanceStats } from '@switchboard/protocol/demo';
import type { SwitchboardServer } from '@switchboard/server';

/** Seconds of history a new dashboard receives in its snapshot. */
export const DASHBOARD_HISTORY_SECONDS = 300;
/** Sampling and delta interval, in ms. */
export const SAMPLE_INTERVAL_MS = 1000;
/** Sampling period of the event-loop delay histogram, in ms. */
const LAG_RESOLUTION_MS = 20;
/** An instance that has not reported for this long is dropped from the figures (it died). */
const INSTANCE_STALE_MS = 5000;

const STATS_CHANNEL = dashboardStatsChannel.name('cluster');

export interface ClusterStats {
  /** The snapshot, then one delta per sample, until the signal aborts. */
  live(signal: AbortSignal | undefined): AsyncGenerator<DashboardEvent>;
  stop(): Promise<void>;
}

/**
 * Samples this instance's counters (the same ones `/metrics` exposes) once a second and shares them on
 * `dashboard:cluster` through the broker, so every instance can report the whole cluster.
 */
export async function startClusterStats(server: SwitchboardServer): Promise<ClusterStats> {
  const latest = new Map<string, InstanceStats>();
  const history: { ts: number; instances: InstanceStats[] }[] = [];
  const waiters = new Set<() => void>();
  let previous = { ...server.metrics.stats, ts: Date.now() };

  const unsubscribe = await server.broker.subscribe(STATS_CHANNEL, (event) => {
    const stats = (JSON.parse(event.json) as { payload: InstanceStats }).payload;
    latest.set(stats.instanceId, stats);
  });
  // Enabled once subscribed: a start that fails (broker down) and is retried leaves no histogram running.
  const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  lag.enable();

  function sample(): InstanceStats {
    const now = Date.now();
    const { stats } = server.metrics;
    const seconds = Math.max(0.001, (now - previous.ts) / 1000);
    const memory = process.memoryUsage();
    const figures: InstanceStats = {
      instanceId: server.instanceId,
      connections: stats.connections,
      channels: stats.channels,
      subscriptions: stats.subscriptions,
      messagesReceivedTotal: stats.messagesReceived,
      messagesSentTotal: stats.messagesSent,
      messagesInPerSecond: (stats.messagesReceived - previous.messagesReceived) / seconds,
      messagesOutPerSecond: (stats.messagesSent - previous.messagesSent) / seconds,
      // The histogram measures whole timer periods: the lag is what exceeds the period.
      eventLoopLagMs: Math.max(0, lag.mean / 1e6 - LAG_RESOLUTION_MS),
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      ts: now,
    };
    lag.reset();
    previous = { ...stats, ts: now };
    return figures;
  }

  const timer = setInterval(() => {
    const own = sample();
    latest.set(own.instanceId, own);
    server.publish(STATS_CHANNEL, 'stats', own).catch(() => {
      // Broker down: this instance still reports its own figures locally.
    });
    const now = Date.now();
    for (const [id, stats] of latest) if (now - stats.ts > INSTANCE_STALE_MS) latest.delete(id);
    history.push({ ts: now, instances: [...latest.values()] });
    if (history.length > DASHBOARD_HISTORY_SECONDS) history.shift();
    for (const wake of waiters) wake();
  }, SAMPLE_INTERVAL_MS);
  timer.unref();

  return {
    async *live(signal) {
      yield { kind: 'snapshot', history: [...history] };
      while (!signal?.aborted) {
        await new Promise<void>((resolve) => {
          const wake = () => {
            waiters.delete(wake);
            resolve();
          };
          waiters.add(wake);
          signal?.addEventListener('abort', wake, { once: true });
        });
        const last = history.at(-1);
        if (signal?.aborted || !last) break;
        yield { kind: 'delta', ts: last.ts, instances: last.instances };
      }
    },
    async stop() {
      clearInterval(timer);
      lag.disable();
      unsubscribe();
      for (const wake of waiters) wake();
    },
  };
}
