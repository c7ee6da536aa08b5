import { sendEvent, serveIpc, wallNow } from '../ipc.ts';
import type { ServerKind } from '../wire.ts';
import { startRawServer } from './raw.ts';
import { startSocketIoServer } from './socketio.ts';
import { RedisBrokerMissing, startSwitchboardServer } from './switchboard.ts';

/**
 * Entry of one server process: `main.ts <raw|sio|sb> [port]`, with `BENCH_REDIS_URL` for the Redis
 * variants. Reports `listening` over IPC and answers `memory` (after a full GC) and `exit`.
 */
export interface RunningServer {
  port: number;
}

const kind = process.argv[2] as ServerKind;
const port = Number(process.argv[3] ?? 0);
const redisUrl = process.env.BENCH_REDIS_URL || undefined;

const gc = (globalThis as { gc?: () => void }).gc;

serveIpc({
  memory() {
    gc?.();
    gc?.();
    return process.memoryUsage();
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
  const started =
    kind === 'raw'
      ? await startRawServer(port)
      : kind === 'sio'
        ? await startSocketIoServer(port, redisUrl)
        : await startSwitchboardServer(port, redisUrl);
  sendEvent({ type: 'listening', port: started.port, at: wallNow() });
} catch (error) {
  sendEvent({
    type: 'failed',
    reason: (error as Error).message,
    missing: error instanceof RedisBrokerMissing,
  });
  setImmediate(() => process.exit(1));
}
