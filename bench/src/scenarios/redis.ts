import { type BenchContext, rotate } from '../orchestrator/context.ts';
import { machineBusyMeter } from '../orchestrator/machineCpu.ts';
import { M } from '../orchestrator/metricCatalog.ts';
import { startRedis } from '../orchestrator/redisServer.ts';
import type { SystemId } from '../orchestrator/results.ts';
import { type ServerHandle, ServerUnavailable, startServer } from '../orchestrator/servers.ts';
import type { ServerKind } from '../wire.ts';

const key = (kind: ServerKind) => `redis-${kind}`;

/** The systems on Redis; `raw` with a Redis URL is the raw `ws` reference forwarding through pub/sub. */
const KINDS = ['raw', 'sio', 'sb'] as const;
/** A latency run during which other work took more than this share of a core is noted. */
const FOREIGN_CPU_NOTE_PCT = 25;

/**
 * Two instances of a system on one redis-server: subscribers split between them, the publisher on the
 * first, so half of every delivery crosses Redis. The raw `ws` reference forwards through Redis pub/sub
 * (`servers/rawRedis.ts`), Socket.IO uses `@socket.io/redis-adapter`, Switchboard `createRedisBroker` from
 * `@switchboard/server/redis` (skipped with a note when it is not there). Per repetition: a burst, the
 * latency at the fan-out scenario's rate (100/s: near saturation on 2 cores) and at a low rate (issue 15:
 * the path through Redis itself).
 */
export async function redisScenario(ctx: BenchContext): Promise<void> {
  const { config, book } = ctx;
  const redis = await startRedis();
  const instances = new Map<ServerKind, ServerHandle[]>();
  try {
    for (const kind of KINDS) {
      try {
        const pair = [await startServer(kind, { redisUrl: redis.url })];
        instances.set(kind, pair);
        pair.push(await startServer(kind, { redisUrl: redis.url }));
      } catch (error) {
        for (const server of instances.get(kind) ?? []) await server.stop();
        instances.delete(kind);
        if (!(error instanceof ServerUnavailable)) throw error;
        book.note(`${kind} on Redis skipped: ${error.message}`);
        ctx.log(`redis ${kind}: skipped (${error.message})`);
      }
    }
    const kinds = [...instances.keys()];
    /**
     * Publish → receive latency at a fixed rate, with what other work on the machine took from the shared
     * cores meanwhile (% of one core: machine busy time minus the instances', redis-server's and the load
     * generator's), kept beside the figure because a latency taken under it is mostly that work's.
     */
    const latency = async (kind: ServerKind, publishesPerSecond: number, durationMs: number) => {
      await ctx.quiesce(key(kind));
      const pids = instances.get(kind)!.map((s) => s.pid);
      const busy = machineBusyMeter();
      const run = await ctx.measure(pids, () => ctx.rate(key(kind), publishesPerSecond, durationMs), [
        redis.pid,
      ]);
      const oursMs = run.serverCpuMs + run.extraCpuMs + run.loadgenCpuMs;
      return { ...run.result, foreignCpuPct: ((busy() - oursMs) / run.wallMs) * 100 };
    };
    for (const kind of kinds) {
      const ports = instances.get(kind)!.map((s) => s.port);
      await ctx.connect({ key: key(kind), kind, ports, count: config.redisSubscribers, channels: 1 });
      await ctx.quiesce(key(kind));
      await ctx.attempt(`redis ${kind} warm-up`, async () => {
        await ctx.burst(key(kind), 1, Math.ceil(config.redisBurstEvents / 2));
      });
    }
    for (let rep = 0; rep < config.repetitions; rep++) {
      for (const kind of rotate(kinds, rep)) {
        await ctx.attempt(`redis ${kind} rep ${rep + 1}`, async () => {
          const system = `${kind}-redis` as SystemId;
          const pids = instances.get(kind)!.map((s) => s.pid);
          await ctx.quiesce(key(kind));
          const burst = await ctx.measure(pids, () => ctx.burst(key(kind), 1, config.redisBurstEvents), [
            redis.pid,
          ]);
          const delivered = burst.result.delivered;
          book.add(M.redisBurst, system, burst.result.deliveriesPerSec, burst.result);
          book.add(M.redisCpu, system, ((burst.serverCpuMs + burst.extraCpuMs) * 1000) / delivered, {
            instancesCpuMs: burst.serverCpuMs,
            redisServerCpuMs: burst.extraCpuMs,
          });
          const rate = await latency(kind, config.latencyPublishesPerSecond, config.latencyDurationMs);
          book.add(M.redisP50, system, rate.p50Ms, rate);
          book.add(M.redisP99, system, rate.p99Ms);
          const low = await latency(
            kind,
            config.redisLowRatePublishesPerSecond,
            config.redisLowRateDurationMs,
          );
          book.add(M.redisLowP50, system, low.p50Ms, low);
          book.add(M.redisLowP99, system, low.p99Ms);
          for (const run of [rate, low]) {
            const what = `redis ${kind} rep ${rep + 1} at ${run.publishesPerSecond}/s`;
            if (!run.complete) book.note(`${what}: ${run.delivered}/${run.expected} delivered`);
            if (run.foreignCpuPct > FOREIGN_CPU_NOTE_PCT) {
              book.note(`${what}: other work used ${run.foreignCpuPct.toFixed(0)}% of a core meanwhile`);
            }
          }
          ctx.log(
            `redis ${kind} rep ${rep + 1}: ${burst.result.deliveriesPerSec.toFixed(0)} deliveries/s; ` +
              `p99 ${rate.p99Ms.toFixed(2)} ms at ${rate.publishesPerSecond}/s (other work ${rate.foreignCpuPct.toFixed(0)}%); ` +
              `p50 ${low.p50Ms.toFixed(2)} p99 ${low.p99Ms.toFixed(2)} ms at ${low.publishesPerSecond}/s (other work ${low.foreignCpuPct.toFixed(0)}%)`,
          );
        });
      }
    }
  } finally {
    for (const [kind, servers] of instances) {
      await ctx.closeGroup(key(kind)).catch(() => {});
      for (const server of servers) await server.stop();
    }
    await redis.stop();
  }
}
