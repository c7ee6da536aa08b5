import { lazy, Suspense } from 'react';
import { InstanceTable } from './cards/InstanceTable.tsx';
import { TotalCards } from './cards/TotalCards.tsx';
import { formatClock } from './format.ts';
import type { Freshness } from './live/freshness.ts';
import { STALE_AFTER_MS } from './live/freshness.ts';
import { useDashboardLive } from './live/useDashboardLive.ts';

// The chart library is most of the bundle: the figures show while it loads.
const ClusterCharts = lazy(() =>
  import('./charts/ClusterCharts.tsx').then((module) => ({ default: module.ClusterCharts })),
);

const FRESHNESS_TEXT: Record<Freshness, string> = {
  live: 'Live',
  waiting: 'Waiting for data…',
  stale: `Stale: no update for over ${STALE_AFTER_MS / 1000} s`,
  disconnected: 'Disconnected: figures are frozen',
};

/** The operations console: totals, charts of the last minutes, and every instance. */
export function DashboardApp() {
  const { samples, latest, freshness, error } = useDashboardLive();
  return (
    <main className={`dashboard freshness-${freshness}`}>
      <div className="dashboard-heading">
        <h1>Cluster overview</h1>
        <span
          className={`badge badge-${freshness}`}
          role="status"
          data-testid="dashboard-status"
          data-state={freshness}
        >
          <span className="dot" aria-hidden="true" />
          {FRESHNESS_TEXT[freshness]}
          {latest && freshness !== 'live' && (
            <span className="muted"> · last update {formatClock(latest.ts)}</span>
          )}
        </span>
      </div>
      {error && (
        <p className="error" role="alert" data-testid="dashboard-error">
          {error}
        </p>
      )}
      <TotalCards latest={latest} />
      <Suspense fallback={<p className="muted">Loading charts…</p>}>
        <ClusterCharts samples={samples} />
      </Suspense>
      <InstanceTable latest={latest} />
    </main>
  );
}
