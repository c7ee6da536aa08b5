/**
 * Every size, count and duration of the benchmark, in one place. `BENCH_QUICK=1` selects the smoke-run
 * figures (about a minute, one repetition, smaller counts); the full run keeps `pnpm bench` under 10 minutes
 * on a 2-core machine.
 */
export interface BenchConfig {
  /** True for the smoke run: figures are single samples, not medians. */
  quick: boolean;
  /** Repetitions per figure; the table shows the median. */
  repetitions: number;
  /** Subscribed idle connections per server for the memory figure and the wide fan-out. */
  idleConnections: number;
  /** Idle connections share channels this many to a channel (so 10,000 → 100 channels, 19,000 → 190). */
  subscribersPerIdleChannel: number;
  /** One run at this many connections (per-process open-files limit here is 20,000); 0 skips it. */
  bigIdleConnections: number;
  /** Events per channel in the 100-channel burst (10,000 subscribers). */
  wideBurstEventsPerChannel: number;
  /** Subscribers on one channel for burst, sustained rate and latency. */
  fanoutSubscribers: number;
  /** Events published back to back in the one-channel burst. */
  burstEvents: number;
  /** Length of each fixed-rate step of the sustained-rate search, in ms. */
  sustainedStepMs: number;
  /** Steps of the sustained-rate search (bisection under the burst figure). */
  sustainedSteps: number;
  /** Fixed publish rate of the latency figure, per second. */
  latencyPublishesPerSecond: number;
  latencyDurationMs: number;
  /** Subscribers split over two instances on Redis. */
  redisSubscribers: number;
  redisBurstEvents: number;
  /**
   * Issue 15's Redis latency figure: a low fixed rate, so no system is near saturation and the figure is
   * the path through Redis; long enough for a p99 over many publishes (rate × duration × subscribers
   * samples).
   */
  redisLowRatePublishesPerSecond: number;
  redisLowRateDurationMs: number;
  /** Clients of the reconnect storm, spread over `stormChannels`. */
  stormClients: number;
  stormChannels: number;
  /** How long a reconnect storm may take before it counts as failed, in ms. */
  stormTimeoutMs: number;
  /** The whole run stops starting new scenarios after this, in ms (each scenario is bounded too). */
  deadlineMs: number;
}

export const fullConfig: BenchConfig = {
  quick: false,
  repetitions: 3,
  idleConnections: 10_000,
  subscribersPerIdleChannel: 100,
  bigIdleConnections: 19_000,
  wideBurstEventsPerChannel: 10,
  fanoutSubscribers: 1_000,
  burstEvents: 200,
  sustainedStepMs: 1_500,
  sustainedSteps: 3,
  latencyPublishesPerSecond: 100,
  latencyDurationMs: 2_000,
  redisSubscribers: 1_000,
  redisBurstEvents: 100,
  redisLowRatePublishesPerSecond: 10,
  redisLowRateDurationMs: 10_000,
  stormClients: 5_000,
  stormChannels: 50,
  stormTimeoutMs: 60_000,
  deadlineMs: 9 * 60_000 + 15_000,
};

export const quickConfig: BenchConfig = {
  quick: true,
  repetitions: 1,
  idleConnections: 2_000,
  subscribersPerIdleChannel: 100,
  bigIdleConnections: 0,
  wideBurstEventsPerChannel: 10,
  fanoutSubscribers: 500,
  burstEvents: 60,
  sustainedStepMs: 1_000,
  sustainedSteps: 2,
  latencyPublishesPerSecond: 100,
  latencyDurationMs: 1_000,
  redisSubscribers: 500,
  redisBurstEvents: 40,
  redisLowRatePublishesPerSecond: 10,
  redisLowRateDurationMs: 3_000,
  stormClients: 1_000,
  stormChannels: 10,
  stormTimeoutMs: 30_000,
  deadlineMs: 3 * 60_000,
};

/** Channels for `connections` idle subscribers. */
export function idleChannelsFor(config: BenchConfig, connections: number): number {
  return Math.ceil(connections / config.subscribersPerIdleChannel);
}

export function configFromEnv(env: NodeJS.ProcessEnv): BenchConfig {
  return env.BENCH_QUICK === '1' || env.BENCH_QUICK === 'true' ? quickConfig : fullConfig;
}

/** Payload size the issue asks for (~100 bytes of JSON). */
export const PAYLOAD_BYTES = 100;
/** Shared JWT secret between the Switchboard servers and the load generator. */
export const BENCH_SECRET = 'switchboard-bench-secret-not-for-production';
