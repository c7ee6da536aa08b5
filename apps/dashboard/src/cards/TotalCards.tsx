import { formatBytes, formatCount, formatMs, formatRate } from '../format.ts';
import type { Sample } from '../live/liveHistory.ts';
import { StatCard } from './StatCard.tsx';

const NONE = '—';

/** The cluster total of every figure (the sum over instances; event-loop lag is the worst instance's). */
export function TotalCards({ latest }: { latest: Sample | undefined }) {
  const total = latest?.total;
  const instances = latest?.instances.length ?? 0;
  return (
    <section className="stat-grid" aria-label="Cluster totals">
      <StatCard
        label="Live connections"
        testId="total-connections"
        value={total ? formatCount(total.connections) : NONE}
        detail={`${instances} instance${instances === 1 ? '' : 's'}`}
      />
      <StatCard
        label="Messages in"
        testId="total-messages-in"
        value={total ? formatRate(total.messagesInPerSecond) : NONE}
      />
      <StatCard
        label="Messages out"
        testId="total-messages-out"
        value={total ? formatRate(total.messagesOutPerSecond) : NONE}
      />
      <StatCard
        label="Channels"
        testId="total-channels"
        value={total ? formatCount(total.channels) : NONE}
        detail={
          total
            ? `${formatCount(total.subscriptions)} subscription${total.subscriptions === 1 ? '' : 's'}`
            : undefined
        }
      />
      <StatCard
        label="Event-loop lag"
        testId="total-event-loop-lag"
        value={total ? formatMs(total.eventLoopLagMs) : NONE}
        detail="worst instance"
      />
      <StatCard
        label="Memory (RSS)"
        testId="total-rss"
        value={total ? formatBytes(total.rssBytes) : NONE}
        detail={total ? `heap ${formatBytes(total.heapUsedBytes)}` : undefined}
      />
    </section>
  );
}
