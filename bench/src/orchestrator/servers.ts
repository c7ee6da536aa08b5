import type { ServerKind } from '../wire.ts';
import { type NodeChild, startNode } from './children.ts';
import { readProc } from './procStat.ts';

export interface ServerHandle {
  readonly kind: ServerKind;
  readonly child: NodeChild;
  readonly pid: number;
  readonly port: number;
  /** Wall-clock time the server reported it was listening. */
  readonly listeningAt: number;
  /** RSS (from /proc) and V8 heap after two full GCs. */
  memory(): Promise<{ rssBytes: number; heapUsedBytes: number }>;
  stop(): Promise<void>;
}

/** The system under test could not start because an optional part is missing (the Redis broker). */
export class ServerUnavailable extends Error {}

export async function startServer(
  kind: ServerKind,
  options: { port?: number; redisUrl?: string; nodeFlags?: string[]; timeoutMs?: number } = {},
): Promise<ServerHandle> {
  const child = startNode(`${kind}-server`, 'servers/main.ts', [kind, String(options.port ?? 0)], {
    nodeFlags: ['--expose-gc', ...(options.nodeFlags ?? [])],
    env: { BENCH_REDIS_URL: options.redisUrl ?? '' },
  });
  let event: Awaited<ReturnType<typeof child.ipc.waitForEvent>>;
  try {
    event = await child.ipc.waitForEvent(['listening', 'failed'], options.timeoutMs ?? 30_000);
  } catch (error) {
    await child.kill();
    throw error;
  }
  if (event.type === 'failed') {
    await child.kill();
    const reason = String(event.reason);
    throw event.missing ? new ServerUnavailable(reason) : new Error(`${kind} server failed: ${reason}`);
  }
  return {
    kind,
    child,
    pid: child.pid,
    port: event.port as number,
    listeningAt: event.at as number,
    async memory() {
      const usage = await child.ipc.call<NodeJS.MemoryUsage>('memory');
      return { rssBytes: readProc(child.pid).rssBytes, heapUsedBytes: usage.heapUsed };
    },
    async stop() {
      // A clean exit (so `--cpu-prof` is written); killed if it does not come within 5 s.
      const timer = setTimeout(() => void child.kill(), 5_000);
      await child.ipc.call('exit', undefined, 5_000).catch(() => {});
      await child.exited;
      clearTimeout(timer);
    },
  };
}
