import { writeHeapSnapshot } from 'node:v8';
import { sendEvent, serveIpc, wallNow } from '../ipc.ts';
import { payloadObject, type ServerKind } from '../wire.ts';
import { createRawServer } from './raw.ts';
import { createRawRedisServer } from './rawRedis.ts';
import { createSocketIoServer } from './socketio.ts';
import { createSwitchboardBenchServer, RedisBrokerMissing } from './switchboard.ts';

/**
 * Entry of one server process: `main.ts <raw|pre|sio|sb> [port]`, with `BENCH_REDIS_URL` for the Redis
 * variants (`raw` then forwards through Redis pub/sub, see `rawRedis.ts`). Reports `ready` once built, then listens at once, or on the `listen` command when
 * `BENCH_DEFER_LISTEN=1` (a restart that is ready to take the port the moment the old process dies), and
 * reports `listening`. Also answers `publishSpread` (server-side publishing, one event per macrotask),
 * `memory` (after two full GCs), `heapSnapshot`, `mark` and `exit`.
 */
export interface CreatedServer {
  listen(port: number): Promise<number>;
  /** Publishes one event to a channel's subscribers on this process, as the app's own code would. */
  publish(channel: string, payload: unknown): unknown;
}

const kind = process.argv[2] as ServerKind;
const port = Number(process.argv[3] ?? 0);
const redisUrl = process.env.BENCH_REDIS_URL || undefined;
const deferListen = process.env.BENCH_DEFER_LISTEN === '1';
const gc = (globalThis as { gc?: () => void }).gc;
let created: CreatedServer | undefined;

async function listen() {
  if (!created) throw new Error('server not created');
  const bound = await created.listen(port);
  sendEvent({ type: 'listening', port: bound, at: wallNow() });
  return bound;
}

serveIpc({
  memory() {
    gc?.();
    gc?.();
    return process.memoryUsage();
  },
  listen,
  /**
   * The unbatched scenario: `count` events to `channel` published by this process's own code, one per
   * macrotask (`setImmediate` between publishes), the way events spread in time arrive in an app. Nothing
   * can coalesce them: each publish leaves before the next begins. Returns when the last one was handed to
   * the server, with the wall-clock start.
   */
  async publishSpread(args: { channel: string; count: number }) {
    if (!created) throw new Error('server not created');
    const startedAt = wallNow();
    for (let seq = 1; seq <= args.count; seq++) {
      await created.publish(args.channel, payloadObject(seq, wallNow()));
      await new Promise((resolve) => setImmediate(resolve));
    }
    return { startedAt, finishedAt: wallNow() };
  },
  /** Writes a heap snapshot (V8 collects garbage first) and returns its path. */
  heapSnapshot(args: { path: string }) {
    return writeHeapSnapshot(args.path);
  },
  /** The monotonic clock V8's CPU profiler stamps samples with, in µs: marks a profile window. */
  mark() {
    return Number(process.hrtime.bigint() / 1000n);
  },
  exit() {
    // Let the IPC reply go out first; `process.exit` also writes a `--cpu-prof` profile.
    setImmediate(() => process.exit(0));
    return true;
  },
});

try {
  created =
    kind === 'raw' && redisUrl
      ? await createRawRedisServer(redisUrl)
      : kind === 'raw' || kind === 'pre'
        ? await createRawServer({ preEncoded: kind === 'pre' })
        : kind === 'sio'
          ? await createSocketIoServer(redisUrl)
          : await createSwitchboardBenchServer(redisUrl);
  sendEvent({ type: 'ready' });
  if (!deferListen) await listen();
} catch (error) {
  sendEvent({
    type: 'failed',
    reason: (error as Error).message,
    missing: error instanceof RedisBrokerMissing,
  });
  setImmediate(() => process.exit(1));
}
