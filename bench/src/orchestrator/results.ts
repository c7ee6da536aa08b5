/**
 * What one run measured: every sample of every figure, per system, so the JSON keeps the spread and the
 * table shows medians. Systems are the single instances (Switchboard twice: WebSocket and SSE subscribers)
 * plus the two-instance Redis variants.
 */
export type SystemId = 'raw' | 'pre' | 'sio' | 'sb' | 'sse' | 'raw-redis' | 'sio-redis' | 'sb-redis';

export const systemLabels: Record<SystemId, string> = {
  raw: 'raw ws',
  pre: 'ws, pre-encoded frame',
  sio: 'Socket.IO 4.8',
  sb: 'Switchboard',
  sse: 'Switchboard, SSE subscribers',
  'raw-redis': 'raw ws + Redis pub/sub (2 instances)',
  'sio-redis': 'Socket.IO 4.8 + redis-adapter (2 instances)',
  'sb-redis': 'Switchboard + Redis broker (2 instances)',
};

export interface Metric {
  id: string;
  label: string;
  unit: string;
  /** Whether a larger value is better (for ratios in the targets). */
  higherIsBetter: boolean;
  /** Digits after the decimal point in the table. */
  digits: number;
  /** Measured on the two-instance Redis systems (`raw-redis`, `sio-redis`, `sb-redis`) instead of single instances. */
  redis: boolean;
  /** Switchboard's cells also show the ratio to the pre-encoded `ws` server (issue 15's limit). */
  vsPreEncoded: boolean;
  samples: Partial<Record<SystemId, number[]>>;
  /** Extra per-sample detail (CPU split, step outcomes...) kept in the JSON only. */
  details: Partial<Record<SystemId, unknown[]>>;
}

export interface RunResults {
  startedAt: string;
  finishedAt?: string;
  durationMs?: number;
  quick: boolean;
  config: unknown;
  environment: Record<string, unknown>;
  versions: Record<string, string>;
  verification: { check: string; ok: boolean; detail: string }[];
  metrics: Metric[];
  notes: string[];
  targets?: TargetOutcome[];
}

export interface TargetOutcome {
  target: string;
  status: 'met' | 'missed' | 'not measured';
  evidence: string;
}

export function median(values: readonly number[] | undefined): number {
  if (!values || values.length === 0) return Number.NaN;
  const sorted = [...values].filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export class ResultBook {
  readonly results: RunResults;

  constructor(quick: boolean, config: unknown) {
    this.results = {
      startedAt: new Date().toISOString(),
      quick,
      config,
      environment: {},
      versions: {},
      verification: [],
      metrics: [],
      notes: [],
    };
  }

  metric(
    id: string,
    label: string,
    unit: string,
    options: { higherIsBetter: boolean; digits?: number; redis?: boolean; vsPreEncoded?: boolean },
  ): Metric {
    let metric = this.results.metrics.find((m) => m.id === id);
    if (!metric) {
      metric = {
        id,
        label,
        unit,
        higherIsBetter: options.higherIsBetter,
        digits: options.digits ?? 1,
        redis: options.redis ?? false,
        vsPreEncoded: options.vsPreEncoded ?? false,
        samples: {},
        details: {},
      };
      this.results.metrics.push(metric);
    }
    return metric;
  }

  add(metricId: string, system: SystemId, value: number, detail?: unknown): void {
    const metric = this.results.metrics.find((m) => m.id === metricId);
    if (!metric) throw new Error(`unknown metric ${metricId}`);
    (metric.samples[system] ??= []).push(value);
    if (detail !== undefined) (metric.details[system] ??= []).push(detail);
  }

  get(metricId: string, system: SystemId): number {
    return median(this.results.metrics.find((m) => m.id === metricId)?.samples[system]);
  }

  note(text: string): void {
    this.results.notes.push(text);
  }
}
