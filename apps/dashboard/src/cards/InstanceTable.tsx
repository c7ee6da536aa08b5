import { formatBytes, formatCount, formatMs, formatRate } from '../format.ts';
import type { Sample } from '../live/liveHistory.ts';

/** Every instance's figures side by side, plus the total row. */
export function InstanceTable({ latest }: { latest: Sample | undefined }) {
  if (!latest) return null;
  const rows = [...latest.instances].sort((a, b) => a.instanceId.localeCompare(b.instanceId));
  return (
    <section className="card" aria-labelledby="instances-heading">
      <h2 id="instances-heading">Instances</h2>
      <div className="table-scroll">
        <table className="instances" data-testid="instance-table">
          <thead>
            <tr>
              <th scope="col">Instance</th>
              <th scope="col">Connections</th>
              <th scope="col">Channels</th>
              <th scope="col">Subscriptions</th>
              <th scope="col">In</th>
              <th scope="col">Out</th>
              <th scope="col">Lag</th>
              <th scope="col">RSS</th>
              <th scope="col">Heap</th>
            </tr>
          </thead>
          <tbody>
            {[
              ...rows.map((row) => ({ key: row.instanceId, label: row.instanceId, stats: row })),
              { key: 'total', label: 'Total', stats: latest.total },
            ].map(({ key, label, stats }) => (
              <tr
                key={key}
                data-testid={key === 'total' ? 'instance-total' : 'instance-row'}
                className={key === 'total' ? 'total' : undefined}
              >
                <th scope="row">{label}</th>
                <td data-testid="instance-connections">{formatCount(stats.connections)}</td>
                <td>{formatCount(stats.channels)}</td>
                <td>{formatCount(stats.subscriptions)}</td>
                <td>{formatRate(stats.messagesInPerSecond)}</td>
                <td>{formatRate(stats.messagesOutPerSecond)}</td>
                <td>{formatMs(stats.eventLoopLagMs)}</td>
                <td>{formatBytes(stats.rssBytes)}</td>
                <td>{formatBytes(stats.heapUsedBytes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
