import { type BenchContext, rotate } from '../orchestrator/context.ts';
import { M } from '../orchestrator/metricCatalog.ts';
import { type ServerHandle, startServer } from '../orchestrator/servers.ts';
import { verifyHarness } from '../orchestrator/verify.ts';
import { type SystemKind, serverOf } from '../wire.ts';

/** Every system gets the batched burst and the unbatched run. */
const SYSTEMS: readonly SystemKind[] = ['raw', 'pre', 'sio', 'sb', 'sse'];
/** The sustained-rate search and the latency figure (the longest steps) run on the original three. */
const RATE_SYSTEMS: readonly SystemKind[] = ['raw', 'sio', 'sb'];
const key = (kind: SystemKind) => `fanout-${kind}`;

/**
 * One channel, `fanoutSubscribers` subscribers, every system side by side, each on its own server process
 * (Switchboard twice: WebSocket subscribers, and SSE subscribers on a second process, so neither run pays
 * for the other's sockets). Two publishing patterns:
 * - batched (favourable to corking): the load generator's publisher sends `burstEvents` publishes back to
 *   back, so they reach the server several per read and per tick; then the highest sustained fixed rate
 *   and latency at a fixed moderate rate;
 * - unbatched (the unfavourable case): the server's own code publishes `burstEvents` events, one per
 *   macrotask, so every event leaves on its own and nothing coalesces.
 * All servers stay up so the repetitions can be interleaved (rotated order), which spreads the machine's
 * minute-to-minute drift over all of them.
 */
export async function fanoutScenario(ctx: BenchContext): Promise<void> {
  const { config, book } = ctx;
  const servers = {} as Record<SystemKind, ServerHandle>;
  try {
    for (const kind of SYSTEMS) servers[kind] = await startServer(serverOf(kind));

    ctx.log('verifying harness frames against @trpc/client and socket.io-client');
    book.results.verification = await verifyHarness({ sio: servers.sio.port, sb: servers.sb.port });
    for (const v of book.results.verification) ctx.log(`  ${v.ok ? 'ok  ' : 'FAIL'} ${v.check}`);
    if (book.results.verification.some((v) => !v.ok))
      book.note('Harness verification failed: see "verification" in the JSON.');

    for (const kind of SYSTEMS) {
      const connected = await ctx.connect({
        key: key(kind),
        kind,
        ports: [servers[kind].port],
        count: config.fanoutSubscribers,
        channels: 1,
      });
      const quiet = await ctx.quiesce(key(kind));
      ctx.log(
        `${kind}: ${connected.connected} subscribers in ${connected.elapsedMs.toFixed(0)} ms (+${quiet.waitedMs.toFixed(0)} ms until quiet)`,
      );
      // Warm-up: JIT and buffers, not recorded.
      await ctx.burst(key(kind), 1, Math.ceil(config.burstEvents / 2));
      await ctx.quiesce(key(kind));
      await ctx.serverPublishes(key(kind), servers[kind].child, Math.ceil(config.burstEvents / 2));
    }

    for (let rep = 0; rep < config.repetitions; rep++) {
      for (const kind of rotate(SYSTEMS, rep)) {
        await ctx.attempt(`burst ${kind} rep ${rep + 1}`, async () => {
          await ctx.quiesce(key(kind));
          const run = await ctx.measure([servers[kind].pid], () =>
            ctx.burst(key(kind), 1, config.burstEvents),
          );
          const { result } = run;
          if (!result.complete)
            book.note(`${kind} burst rep ${rep + 1}: ${result.delivered}/${result.expected} delivered`);
          book.add(M.burst, kind, result.deliveriesPerSec, result);
          book.add(M.burstCpu, kind, (run.serverCpuMs * 1000) / result.delivered);
          book.add(M.burstLoadgenCpu, kind, (run.loadgenCpuMs * 1000) / result.delivered);
          book.add(M.burstServerPct, kind, (run.serverCpuMs / run.wallMs) * 100);
          book.add(M.burstLoadgenPct, kind, (run.loadgenCpuMs / run.wallMs) * 100);
          ctx.log(
            `burst ${kind} rep ${rep + 1}: ${result.deliveriesPerSec.toFixed(0)} deliveries/s, server ${((run.serverCpuMs * 1000) / result.delivered).toFixed(2)} µs/delivery`,
          );
        });
      }
    }

    for (let rep = 0; rep < config.repetitions; rep++) {
      for (const kind of rotate(SYSTEMS, rep)) {
        await ctx.attempt(`unbatched ${kind} rep ${rep + 1}`, async () => {
          await ctx.quiesce(key(kind));
          const run = await ctx.measure([servers[kind].pid], () =>
            ctx.serverPublishes(key(kind), servers[kind].child, config.burstEvents),
          );
          const { result } = run;
          if (!result.complete)
            book.note(`${kind} unbatched rep ${rep + 1}: ${result.delivered}/${result.expected} delivered`);
          book.add(M.spread, kind, result.deliveriesPerSec, result);
          book.add(M.spreadCpu, kind, (run.serverCpuMs * 1000) / result.delivered);
          book.add(M.spreadLoadgenCpu, kind, (run.loadgenCpuMs * 1000) / result.delivered);
          ctx.log(
            `unbatched ${kind} rep ${rep + 1}: ${result.deliveriesPerSec.toFixed(0)} deliveries/s, server ${((run.serverCpuMs * 1000) / result.delivered).toFixed(2)} µs/delivery`,
          );
        });
      }
    }

    for (let rep = 0; rep < config.repetitions; rep++) {
      for (const kind of rotate(RATE_SYSTEMS, rep)) {
        // Keep about half the budget for the scenarios that follow.
        if (
          !ctx.hasTime(config.sustainedSteps * (config.sustainedStepMs + 2_000) + config.deadlineMs * 0.5)
        ) {
          book.note(`sustained-rate search stopped at rep ${rep + 1} (time budget)`);
          break;
        }
        await ctx.attempt(`sustained ${kind} rep ${rep + 1}`, async () => {
          const ceiling = book.get(M.burst, kind) / config.fanoutSubscribers;
          const found = await searchSustainedRate(ctx, key(kind), ceiling);
          book.add(M.sustained, kind, found.publishesPerSecond * config.fanoutSubscribers, found.steps);
          ctx.log(`sustained ${kind} rep ${rep + 1}: ${found.publishesPerSecond.toFixed(0)} publishes/s`);
        });
      }
    }

    for (let rep = 0; rep < config.repetitions; rep++) {
      for (const kind of rotate(RATE_SYSTEMS, rep)) {
        await ctx.attempt(`latency ${kind} rep ${rep + 1}`, async () => {
          await ctx.quiesce(key(kind));
          const run = await ctx.measure([servers[kind].pid], () =>
            ctx.rate(key(kind), config.latencyPublishesPerSecond, config.latencyDurationMs),
          );
          const { result } = run;
          if (!result.complete)
            book.note(`${kind} latency rep ${rep + 1}: ${result.delivered}/${result.expected} delivered`);
          book.add(M.p50, kind, result.p50Ms, result);
          book.add(M.p95, kind, result.p95Ms);
          book.add(M.p99, kind, result.p99Ms);
          book.add(M.latencyServerPct, kind, (run.serverCpuMs / run.wallMs) * 100);
          ctx.log(
            `latency ${kind} rep ${rep + 1}: p50 ${result.p50Ms.toFixed(2)} p99 ${result.p99Ms.toFixed(2)} ms`,
          );
        });
      }
    }
  } finally {
    for (const kind of SYSTEMS) {
      await ctx.closeGroup(key(kind)).catch(() => {});
      await servers[kind]?.stop();
    }
  }
}

/**
 * Bisection for the highest fixed publish rate that is fully delivered within a second of the last publish
 * and whose latency stays flat (last quarter's p50 ≤ 2× the first quarter's + 20 ms), below the burst
 * figure (a burst is the upper bound of any sustained rate).
 */
async function searchSustainedRate(ctx: BenchContext, groupKey: string, ceilingPerSec: number) {
  const { config } = ctx;
  let low = 0;
  let high = ceilingPerSec;
  let rate = ceilingPerSec * 0.75;
  const steps: unknown[] = [];
  for (let step = 0; step < config.sustainedSteps; step++) {
    await ctx.quiesce(groupKey);
    const result = await ctx.rate(groupKey, rate, config.sustainedStepMs);
    const flat = result.lastQuarterP50Ms <= 2 * result.firstQuarterP50Ms + 20;
    const keptRate = result.sentPerSecond >= 0.95 * rate;
    const pass = result.complete && flat && keptRate;
    steps.push({
      rate,
      pass,
      complete: result.complete,
      flat,
      keptRate,
      p50: result.p50Ms,
      p99: result.p99Ms,
      firstQ: result.firstQuarterP50Ms,
      lastQ: result.lastQuarterP50Ms,
    });
    if (pass) low = rate;
    else high = rate;
    rate = (low + high) / 2;
  }
  return { publishesPerSecond: low, steps };
}
