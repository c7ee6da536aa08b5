import type { AppRouter } from '@switchboard/demo-server';
import { useNow } from '@switchboard/demo-ui';
import { useConnectionState, useSwitchboard } from '@switchboard/react';
import { useEffect, useState } from 'react';
import { type Freshness, freshnessOf } from './freshness.ts';
import { applyDashboardEvent, type Sample } from './liveHistory.ts';

/** How often freshness is re-evaluated when nothing arrives. */
const FRESHNESS_TICK_MS = 500;

export interface DashboardLive {
  samples: Sample[];
  latest: Sample | undefined;
  freshness: Freshness;
  error: string | null;
}

/**
 * `dashboard.live`: a snapshot of the last minutes, then a delta each second. tRPC's wsLink resubscribes
 * after a reconnect, and the server starts that stream with a new snapshot.
 */
export function useDashboardLive(): DashboardLive {
  const client = useSwitchboard<AppRouter>();
  const connection = useConnectionState();
  const [samples, setSamples] = useState<Sample[]>([]);
  const [lastReceivedAt, setLastReceivedAt] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const now = useNow(FRESHNESS_TICK_MS);

  useEffect(() => {
    const subscription = client.trpc.dashboard.live.subscribe(undefined, {
      onData(event) {
        setSamples((current) => applyDashboardEvent(current, event));
        setLastReceivedAt(Date.now());
        setError(null);
      },
      onError(cause) {
        setError(cause.message);
      },
    });
    return () => subscription.unsubscribe();
  }, [client]);

  return { samples, latest: samples.at(-1), freshness: freshnessOf(connection, lastReceivedAt, now), error };
}
