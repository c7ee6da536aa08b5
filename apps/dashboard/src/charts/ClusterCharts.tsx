import { memo, useMemo } from 'react';
import { formatCount, formatMs, formatRate, toMiB } from '../format.ts';
import type { Sample } from '../live/liveHistory.ts';
import { type ChartRow, type Series, TimeSeriesChart } from './TimeSeriesChart.tsx';

const COLORS = ['#2f6fdf', '#e8833a', '#1f8a4c', '#9446ed', '#c0362c', '#0f9ba8'];
const TOTAL_COLOR = '#1f2933';

/**
 * Connections per instance (when there are several) and in total; rates, memory and lag as totals.
 * Memoised: the page re-renders twice a second for its freshness badge, and the charts only need to redraw
 * when a sample arrives.
 */
export const ClusterCharts = memo(function ClusterCharts({ samples }: { samples: readonly Sample[] }) {
  const instanceIds = useMemo(
    () => [...new Set(samples.flatMap((sample) => sample.instances.map((s) => s.instanceId)))].sort(),
    [samples],
  );
  const rows = useMemo(
    () =>
      samples.map((sample) => {
        const row: ChartRow = {
          ts: sample.ts,
          connections: sample.total.connections,
          messagesIn: sample.total.messagesInPerSecond,
          messagesOut: sample.total.messagesOutPerSecond,
          rssMiB: toMiB(sample.total.rssBytes),
          heapMiB: toMiB(sample.total.heapUsedBytes),
          lagMs: sample.total.eventLoopLagMs,
        };
        for (const instance of sample.instances)
          row[`connections:${instance.instanceId}`] = instance.connections;
        return row;
      }),
    [samples],
  );
  const connectionSeries: Series[] = [
    { key: 'connections', label: 'Total', color: TOTAL_COLOR },
    ...(instanceIds.length > 1
      ? instanceIds.map((id, index) => ({
          key: `connections:${id}`,
          label: id,
          color: COLORS[index % COLORS.length]!,
        }))
      : []),
  ];

  return (
    <div className="chart-grid">
      <TimeSeriesChart
        title="Live connections"
        testId="chart-connections"
        rows={rows}
        series={connectionSeries}
        formatValue={formatCount}
        integer
      />
      <TimeSeriesChart
        title="Messages per second"
        testId="chart-messages"
        rows={rows}
        series={[
          { key: 'messagesIn', label: 'In', color: COLORS[0]! },
          { key: 'messagesOut', label: 'Out', color: COLORS[1]! },
        ]}
        formatValue={formatRate}
      />
      <TimeSeriesChart
        title="Memory (MiB)"
        testId="chart-memory"
        rows={rows}
        series={[
          { key: 'rssMiB', label: 'RSS', color: COLORS[2]! },
          { key: 'heapMiB', label: 'Heap used', color: COLORS[3]! },
        ]}
        formatValue={(mib) => `${formatCount(mib)} MiB`}
      />
      <TimeSeriesChart
        title="Event-loop lag"
        testId="chart-lag"
        rows={rows}
        series={[{ key: 'lagMs', label: 'Lag', color: COLORS[4]! }]}
        formatValue={formatMs}
      />
    </div>
  );
});
