import { type DashboardEvent, type InstanceStats, totalOf } from '@switchboard/protocol/demo';

/** Samples kept for the charts: one a second, five minutes. */
export const MAX_SAMPLES = 300;

/** One second of the cluster: every instance's figures and their total. */
export interface Sample {
  ts: number;
  instances: InstanceStats[];
  total: ReturnType<typeof totalOf>;
}

function toSample(ts: number, instances: InstanceStats[]): Sample {
  return { ts, instances, total: totalOf(instances) };
}

/**
 * A snapshot replaces the history (it is sent again after every resubscribe, so nothing is stitched across a
 * reconnect); a delta appends one sample, unless the server sent that second already.
 */
export function applyDashboardEvent(samples: readonly Sample[], event: DashboardEvent): Sample[] {
  if (event.kind === 'snapshot') {
    return event.history.slice(-MAX_SAMPLES).map((entry) => toSample(entry.ts, entry.instances));
  }
  const last = samples.at(-1);
  if (last && last.ts >= event.ts) return samples as Sample[];
  const next = [...samples, toSample(event.ts, event.instances)];
  return next.length > MAX_SAMPLES ? next.slice(-MAX_SAMPLES) : next;
}
