import { wallNow } from '../ipc.ts';
import type { BenchContext } from '../orchestrator/context.ts';
import { M } from '../orchestrator/metricCatalog.ts';
import { prepareServer, type ServerHandle, startServer } from '../orchestrator/servers.ts';
import type { ServerKind } from '../wire.ts';

/** Switchboard first: the slowest to reconnect, and the one the time budget must not cut. */
const SYSTEMS: readonly ServerKind[] = ['sb', 'raw', 'sio'];

/**
 * Reconnect storm: `stormClients` subscribed clients, the server is killed (SIGKILL, like a crash or an
 * OOM kill) and a replacement that has already loaded its code takes the same port at once (so every
 * server has the same downtime, not its own module-loading time; boot time is reported separately). Clients reconnect with full-jitter backoff and resubscribe;
 * tRPC clients resubscribe with their `lastEventId`, as `@trpc/client` does, and count as back once the
 * server answered the resume (a `$gap` here: the memory broker's history died with the process).
 */
export async function stormScenario(ctx: BenchContext): Promise<void> {
  const { config, book } = ctx;
  for (const kind of SYSTEMS) {
    if (!ctx.hasTime(45_000)) {
      book.note(`reconnect storm of ${kind} skipped (time budget)`);
      continue;
    }
    const key = `storm-${kind}`;
    let server: ServerHandle = await startServer(kind);
    const port = server.port;
    try {
      await ctx.connect({
        key,
        kind,
        ports: [port],
        count: config.stormClients,
        channels: config.stormChannels,
        storm: true,
      });
      await ctx.quiesce(key);
      for (let rep = 0; rep < config.repetitions; rep++) {
        if (!ctx.hasTime(15_000)) break;
        const replacement = await prepareServer(kind, { port });
        const armed = await ctx.armStorm(key);
        const killedAt = wallNow();
        await server.child.kill('SIGKILL');
        server = await replacement.listen();
        const storm = await ctx.stormResult(key, config.stormTimeoutMs);
        const doneMs = storm.lastDoneAt - server.listeningAt;
        if (storm.done < storm.clients)
          book.note(`${kind} storm rep ${rep + 1}: only ${storm.done}/${storm.clients} back`);
        book.add(M.stormDone, kind, storm.done === storm.clients ? doneMs : Number.NaN, {
          ...storm,
          ...armed,
          killedAt,
          listeningAt: server.listeningAt,
        });
        book.add(
          M.stormFromKill,
          kind,
          storm.done === storm.clients ? storm.lastDoneAt - killedAt : Number.NaN,
        );
        book.add(M.stormPeak, kind, storm.peakOpensPerSec);
        book.add(M.stormAttempts, kind, storm.attempts / storm.clients);
        ctx.log(
          `storm ${kind} rep ${rep + 1}: ${storm.done}/${storm.clients} back ${doneMs.toFixed(0)} ms after restart ` +
            `(down ${(server.listeningAt - killedAt).toFixed(0)} ms), peak ${storm.peakOpensPerSec} conn/s, ` +
            `${(storm.attempts / storm.clients).toFixed(2)} attempts/client` +
            (kind === 'sb' ? `, ${storm.gapsReceived} resumes answered with $gap` : ''),
        );
        await ctx.quiesce(key);
      }
    } finally {
      await ctx.closeGroup(key).catch(() => {});
      await server.stop();
    }
  }
}
