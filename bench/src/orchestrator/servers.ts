import { join } from 'node:path';
import type { ServerKind } from '../wire.ts';
import { benchDir, type NodeChild, startNode } from './children.ts';
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

/** Where the servers' own logs (pino, level warn) go; the run reports how much they wrote. */
export const serverLogDir = join(benchDir, 'results', 'logs');

/** The system under test could not start because an optional part is missing (the Redis broker). */
export class ServerUnavailable extends Error {}

interface ServerOptions {
  port?: number;
  redisUrl?: string;
  nodeFlags?: string[];
  timeoutMs?: number;
}

/** Starts a server process and waits until it listens. */
export async function startServer(kind: ServerKind, options: ServerOptions = {}): Promise<ServerHandle> {
  return (await prepareServer(kind, options, false)).listen();
}

/**
 * Starts a server process that loads and builds everything but listens only on `listen()`: a restart
 * whose downtime is the same for every server, not its module loading time.
 */
export async function prepareServer(
  kind: ServerKind,
  options: ServerOptions = {},
  deferListen = true,
): Promise<{ child: NodeChild; listen(): Promise<ServerHandle> }> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const child = startNode(`${kind}-server`, 'servers/main.ts', [kind, String(options.port ?? 0)], {
    nodeFlags: ['--expose-gc', ...(options.nodeFlags ?? [])],
    env: { BENCH_REDIS_URL: options.redisUrl ?? '', BENCH_DEFER_LISTEN: deferListen ? '1' : '0' },
    logFile: join(serverLogDir, `${kind}${options.redisUrl ? '-redis' : ''}.log`),
  });
  const expect = async (types: string[]) => {
    try {
      const event = await child.ipc.waitForEvent([...types, 'failed'], timeoutMs);
      if (event.type !== 'failed') return event;
      const reason = String(event.reason);
      throw event.missing ? new ServerUnavailable(reason) : new Error(`${kind} server failed: ${reason}`);
    } catch (error) {
      await child.kill();
      throw error;
    }
  };
  // Wait for both events from the start, so a fast `listening` is not missed ('ready' first: an early
  // 'failed' goes to the first waiter).
  const ready = expect(['ready']);
  const listening = deferListen ? undefined : expect(['listening']);
  listening?.catch(() => {});
  await ready;
  return {
    child,
    async listen() {
      const event = await (listening ??
        Promise.all([expect(['listening']), child.ipc.call('listen')]).then(([e]) => e));
      return handle(kind, child, event.port as number, event.at as number);
    },
  };
}

function handle(kind: ServerKind, child: NodeChild, port: number, listeningAt: number): ServerHandle {
  return {
    kind,
    child,
    pid: child.pid,
    port,
    listeningAt,
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
