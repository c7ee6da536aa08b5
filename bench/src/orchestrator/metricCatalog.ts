import { type BenchConfig, idleChannelsFor } from '../config.ts';
import type { ResultBook } from './results.ts';

/** Metric ids, so scenarios and the targets refer to the same figures. */
export const M = {
  burst: 'fanout.burst',
  burstCpu: 'fanout.burstCpu',
  burstLoadgenCpu: 'fanout.burstLoadgenCpu',
  burstServerPct: 'fanout.burstServerPct',
  burstLoadgenPct: 'fanout.burstLoadgenPct',
  spread: 'fanout.spread',
  spreadCpu: 'fanout.spreadCpu',
  spreadLoadgenCpu: 'fanout.spreadLoadgenCpu',
  sustained: 'fanout.sustained',
  p50: 'latency.p50',
  p95: 'latency.p95',
  p99: 'latency.p99',
  latencyServerPct: 'latency.serverPct',
  wide: 'wide.burst',
  wideCpu: 'wide.cpu',
  idleRss: 'idle.rss',
  idleHeap: 'idle.heap',
  connectCpu: 'idle.connectCpu',
  connectLoadgenCpu: 'idle.connectLoadgenCpu',
  connectRate: 'idle.connectRate',
  bigRss: 'big.rss',
  bigHeap: 'big.heap',
  bigHeld: 'big.held',
  redisBurst: 'redis.burst',
  redisCpu: 'redis.cpu',
  redisP50: 'redis.p50',
  redisP99: 'redis.p99',
  redisLowP50: 'redis.lowRateP50',
  redisLowP99: 'redis.lowRateP99',
  stormDone: 'storm.done',
  stormFromKill: 'storm.fromKill',
  stormPeak: 'storm.peak',
  stormAttempts: 'storm.attempts',
} as const;

/** Declares every figure up front, in table order. */
export function declareMetrics(book: ResultBook, config: BenchConfig): void {
  const subs = config.fanoutSubscribers.toLocaleString('en-US');
  const idle = config.idleConnections.toLocaleString('en-US');
  const big = config.bigIdleConnections.toLocaleString('en-US');
  const wideSubs = config.idleConnections.toLocaleString('en-US');
  const lower = { higherIsBetter: false };
  const higher = { higherIsBetter: true, digits: 0 };
  book.metric(
    M.burst,
    `Batched fan-out: burst, ${subs} subscribers on 1 channel (events arrive several per tick)`,
    'deliveries/s',
    higher,
  );
  book.metric(
    M.sustained,
    'Highest sustained fixed rate (100% delivered, flat latency)',
    'deliveries/s',
    higher,
  );
  book.metric(M.burstCpu, 'Server CPU per delivery (batched burst)', 'µs', {
    ...lower,
    digits: 2,
    vsPreEncoded: true,
  });
  book.metric(M.burstLoadgenCpu, 'Load generator CPU per delivery (batched burst)', 'µs', {
    ...lower,
    digits: 2,
  });
  book.metric(M.burstServerPct, 'Server CPU during burst (1 core = 100%)', '%', { ...lower, digits: 0 });
  book.metric(M.burstLoadgenPct, 'Load generator CPU during burst', '%', { ...lower, digits: 0 });
  book.metric(
    M.spread,
    `Unbatched fan-out: server publishes one event per macrotask, ${subs} subscribers`,
    'deliveries/s',
    higher,
  );
  book.metric(M.spreadCpu, 'Server CPU per delivery (unbatched)', 'µs', {
    ...lower,
    digits: 2,
    vsPreEncoded: true,
  });
  book.metric(M.spreadLoadgenCpu, 'Load generator CPU per delivery (unbatched)', 'µs', {
    ...lower,
    digits: 2,
  });
  book.metric(M.p50, `Latency p50, ${config.latencyPublishesPerSecond} publishes/s × ${subs}`, 'ms', {
    ...lower,
    digits: 2,
  });
  book.metric(M.p95, 'Latency p95', 'ms', { ...lower, digits: 2 });
  book.metric(M.p99, 'Latency p99', 'ms', { ...lower, digits: 2 });
  book.metric(M.latencyServerPct, `Server CPU at ${config.latencyPublishesPerSecond} publishes/s`, '%', {
    ...lower,
    digits: 0,
  });
  book.metric(
    M.wide,
    `Fan-out burst, ${wideSubs} subscribers over ${idleChannelsFor(config, config.idleConnections)} channels`,
    'deliveries/s',
    higher,
  );
  book.metric(
    M.wideCpu,
    `Server CPU per delivery (${idleChannelsFor(config, config.idleConnections)} channels)`,
    'µs',
    {
      ...lower,
      digits: 2,
    },
  );
  book.metric(M.idleRss, `Idle RSS per subscribed connection at ${idle}`, 'KiB', lower);
  book.metric(M.idleHeap, `Idle V8 heap per subscribed connection at ${idle}`, 'KiB', lower);
  book.metric(M.connectCpu, 'Server CPU per connect + subscribe', 'µs', { ...lower, digits: 0 });
  // The rate below is two processes on two shared cores: what the client side costs is half the story.
  book.metric(M.connectLoadgenCpu, 'Load generator CPU per connect + subscribe', 'µs', {
    ...lower,
    digits: 0,
  });
  book.metric(M.connectRate, 'Connect + subscribe rate (200 handshakes in flight)', 'conn/s', higher);
  if (config.bigIdleConnections > 0) {
    book.metric(M.bigHeld, `Idle subscribed connections held (one run at ${big})`, 'connections', higher);
    book.metric(M.bigRss, `Idle RSS per subscribed connection at ${big} (one run)`, 'KiB', lower);
    book.metric(M.bigHeap, `Idle V8 heap per subscribed connection at ${big} (one run)`, 'KiB', lower);
  }
  const redis = { redis: true };
  const rsubs = config.redisSubscribers.toLocaleString('en-US');
  book.metric(M.redisBurst, `Redis, 2 instances: fan-out burst, ${rsubs} subscribers`, 'deliveries/s', {
    ...higher,
    ...redis,
  });
  book.metric(M.redisCpu, 'Redis, 2 instances: CPU per delivery (both instances + redis-server)', 'µs', {
    ...lower,
    digits: 2,
    ...redis,
  });
  book.metric(M.redisP50, `Redis, 2 instances: latency p50 at ${config.latencyPublishesPerSecond}/s`, 'ms', {
    ...lower,
    digits: 2,
    ...redis,
  });
  book.metric(M.redisP99, `Redis, 2 instances: latency p99 at ${config.latencyPublishesPerSecond}/s`, 'ms', {
    ...lower,
    digits: 2,
    ...redis,
  });
  const low = config.redisLowRatePublishesPerSecond;
  book.metric(M.redisLowP50, `Redis, 2 instances: latency p50 at ${low}/s`, 'ms', {
    ...lower,
    digits: 2,
    ...redis,
  });
  book.metric(M.redisLowP99, `Redis, 2 instances: latency p99 at ${low}/s`, 'ms', {
    ...lower,
    digits: 2,
    ...redis,
  });
  const storm = config.stormClients.toLocaleString('en-US');
  book.metric(M.stormDone, `Reconnect storm, ${storm} clients: restart → all resubscribed (+resumed)`, 'ms', {
    ...lower,
    digits: 0,
  });
  book.metric(M.stormFromKill, 'Reconnect storm: kill → all resubscribed', 'ms', { ...lower, digits: 0 });
  book.metric(M.stormPeak, 'Reconnect storm: peak connection rate (1 s window)', 'conn/s', higher);
  book.metric(M.stormAttempts, 'Reconnect storm: connection attempts per client', 'attempts', {
    ...lower,
    digits: 2,
  });
}
