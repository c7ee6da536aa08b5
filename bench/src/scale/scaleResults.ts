import type { ConnectReport } from './subscriberPool.ts';

/** One broadcast: publish → deliveries on every load generator, with what each process spent meanwhile. */
export interface BroadcastSample {
  seq: number;
  expected: number;
  delivered: number;
  complete: boolean;
  /** Publish (just before the frame was written) → first / last delivery anywhere, in ms (wall clock). */
  firstDeliveryMs: number;
  lastDeliveryMs: number;
  /** Publish → the publishing client got its answer, in ms. */
  publishAnsweredMs: number;
  /** Length of the measured window (arm → every load generator reported), in ms. */
  windowMs: number;
  /** CPU of each instance in the window, in ms (/proc/<pid>/stat, 10 ms ticks). */
  instanceCpuMs: number[];
  /** redis-server CPU in the window from `INFO cpu`, in ms. */
  redisCpuMs: number;
  loadgenCpuMs: number;
  /** Redis calls per command in the window. */
  redisCommands: Record<string, { calls: number; usecPerCall: number }>;
  /** Size of one delivered WebSocket message, in bytes. */
  messageBytes: number;
}

/** Everything `pnpm bench:scale` measured; the JSON file is this object. */
export interface ScaleResults {
  startedAt: string;
  finishedAt?: string;
  durationMs?: number;
  config: Record<string, unknown>;
  environment: Record<string, unknown>;
  /** Phases reached, in order; a failed or cut-short run says where it stopped. */
  phases: string[];
  notes: string[];
  instances?: { pid: number; port: number }[];
  baseline?: {
    instanceRssBytes: number[];
    instanceHeapBytes: number[];
    redisRssBytes: number;
    redisUsedMemoryBytes: number;
    kernelTcpMemBytes: number;
  };
  connect?: {
    requested: number;
    live: number;
    failed: number;
    dropped: number;
    pending: number;
    /** Start of the connect phase → the last load generator settled, in ms. */
    elapsedMs: number;
    connectionsPerSec: number;
    /** Live connections over time (ms since the phase began), from 5 s progress polls. */
    progress: { atMs: number; live: number }[];
    perLoadgen: ConnectReport[];
    instanceCpuMs: number[];
    redisCpuMs: number;
    loadgenCpuMs: number;
    redisCommands: Record<string, { calls: number; usecPerCall: number }>;
    /** Live connections per instance (from the load generators' assignment). */
    perInstance: number[];
  };
  afterConnect?: {
    instanceRssBytes: number[];
    instanceHeapBytes: number[];
    /** RSS just before the GC that `instanceRssBytes` follows. */
    instanceRssBeforeGcBytes: number[];
    redisRssBytes: number;
    redisUsedMemoryBytes: number;
    redisClients: number;
    kernelTcpMemBytes: number;
    kernelTcpSockets: number;
  };
  idle?: { windowMs: number; instanceCpuMs: number[]; redisCpuMs: number };
  broadcasts: BroadcastSample[];
  afterBroadcasts?: { instanceRssBytes: number[]; redisRssBytes: number };
  /** Log lines the instances wrote (warnings and errors). */
  instanceLogLines?: number[];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
