import { idleChannelsFor } from '../config.ts';
import { type BenchContext, rotate } from '../orchestrator/context.ts';
import { M } from '../orchestrator/metricCatalog.ts';
import { startServer } from '../orchestrator/servers.ts';
import type { ServerKind } from '../wire.ts';

const SYSTEMS: readonly ServerKind[] = ['raw', 'sio', 'sb'];
const KiB = 1024;

/**
 * Idle cost and wide fan-out: a fresh server per repetition, `idleConnections` subscribers spread over
 * `subscribersPerIdleChannel` per channel. Memory per connection is (after − before) / connections, both after two full
 * GCs; then one burst over every channel.
 */
export async function idleScenario(ctx: BenchContext): Promise<void> {
  const { config, book } = ctx;
  for (let rep = 0; rep < config.repetitions; rep++) {
    for (const kind of rotate(SYSTEMS, rep)) {
      // Keep about 40% of the budget for the 19,000 run, Redis and the storm.
      if (!ctx.hasTime(30_000 + config.deadlineMs * 0.42)) {
        book.note(`idle/wide runs stopped at rep ${rep + 1} (time budget)`);
        return;
      }
      await ctx.attempt(`idle ${kind} rep ${rep + 1}`, async () => {
        const sample = await holdIdle(
          ctx,
          kind,
          config.idleConnections,
          idleChannelsFor(config, config.idleConnections),
          `idle-${kind}-${rep}`,
          true,
        );
        book.add(M.idleRss, kind, sample.rssPerConnKiB);
        book.add(M.idleHeap, kind, sample.heapPerConnKiB);
        book.add(M.connectCpu, kind, sample.connectCpuUs);
        book.add(M.connectLoadgenCpu, kind, sample.connectLoadgenCpuUs);
        book.add(M.connectRate, kind, sample.connectRate);
        if (sample.wide) {
          book.add(M.wide, kind, sample.wide.deliveriesPerSec, sample.wide);
          book.add(M.wideCpu, kind, sample.wide.cpuUsPerDelivery);
        }
      });
    }
  }
}

/** One run at the per-process open-files limit (Switchboard and the raw reference for its ratio). */
export async function bigIdleScenario(ctx: BenchContext): Promise<void> {
  const { config, book } = ctx;
  for (const kind of ['sb', 'raw'] as const) {
    // Leave about 100 s for Redis and the storm.
    if (!ctx.hasTime((kind === 'sb' ? 60_000 : 20_000) + 100_000)) {
      book.note(`${config.bigIdleConnections} run of ${kind} skipped (time budget)`);
      continue;
    }
    try {
      const sample = await holdIdle(
        ctx,
        kind,
        config.bigIdleConnections,
        idleChannelsFor(config, config.bigIdleConnections),
        `big-${kind}`,
        false,
      );
      book.add(M.bigHeld, kind, sample.held);
      book.add(M.bigRss, kind, sample.rssPerConnKiB, sample);
      book.add(M.bigHeap, kind, sample.heapPerConnKiB);
    } catch (error) {
      book.note(
        `${config.bigIdleConnections} connections on ${kind} failed: ${(error as Error).message.slice(0, 300)}`,
      );
    }
  }
}

async function holdIdle(
  ctx: BenchContext,
  kind: ServerKind,
  count: number,
  channels: number,
  key: string,
  wide: boolean,
) {
  const server = await startServer(kind);
  try {
    const before = await server.memory();
    const connect = await ctx.measure([server.pid], async () => {
      const connected = await ctx.connect({ key, kind, ports: [server.port], count, channels });
      await ctx.quiesce(key);
      return connected;
    });
    const after = await server.memory();
    const rssPerConnKiB = (after.rssBytes - before.rssBytes) / count / KiB;
    const heapPerConnKiB = (after.heapUsedBytes - before.heapUsedBytes) / count / KiB;
    ctx.log(
      `idle ${kind} ×${count}: RSS ${rssPerConnKiB.toFixed(1)} KiB/conn, heap ${heapPerConnKiB.toFixed(1)} KiB/conn ` +
        `(RSS ${(after.rssBytes / 2 ** 20).toFixed(0)} MiB), connect ${connect.result.elapsedMs.toFixed(0)} ms`,
    );
    let wideResult: { deliveriesPerSec: number; cpuUsPerDelivery: number; complete: boolean } | undefined;
    if (wide) {
      await ctx.burst(key, channels, 1);
      await ctx.quiesce(key);
      const run = await ctx.measure([server.pid], () =>
        ctx.burst(key, channels, ctx.config.wideBurstEventsPerChannel),
      );
      wideResult = {
        deliveriesPerSec: run.result.deliveriesPerSec,
        cpuUsPerDelivery: (run.serverCpuMs * 1000) / run.result.delivered,
        complete: run.result.complete,
      };
      ctx.log(
        `wide ${kind}: ${wideResult.deliveriesPerSec.toFixed(0)} deliveries/s, ${wideResult.cpuUsPerDelivery.toFixed(2)} µs/delivery`,
      );
    }
    return {
      held: connect.result.connected,
      rssPerConnKiB,
      heapPerConnKiB,
      rssBytes: after.rssBytes,
      baselineRssBytes: before.rssBytes,
      connectCpuUs: (connect.serverCpuMs * 1000) / count,
      connectLoadgenCpuUs: (connect.loadgenCpuMs * 1000) / count,
      connectRate: (count / connect.result.elapsedMs) * 1000,
      wide: wideResult,
    };
  } finally {
    await ctx.closeGroup(key).catch(() => {});
    await server.stop();
  }
}
