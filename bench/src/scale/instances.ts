import { join } from 'node:path';
import { benchDir, type NodeChild, startNode } from '../orchestrator/children.ts';
import { readProc } from '../orchestrator/procStat.ts';

/** Where the scale run's instance logs go (pino, level warn); the report counts their lines. */
export const scaleLogDir = join(benchDir, 'results', 'scale-logs');

export interface Instance {
  readonly index: number;
  readonly child: NodeChild;
  readonly pid: number;
  readonly port: number;
  /** RSS from /proc and V8 heap, both after two full GCs. */
  memoryAfterGc(timeoutMs: number): Promise<{ rssBytes: number; heapUsedBytes: number }>;
}

/**
 * Starts one Switchboard instance of the bench (`servers/main.ts sb`, `createRedisBroker` on `redisUrl`)
 * in its own process, the way the bench starts its servers (open-files soft limit raised to the hard
 * limit, `--expose-gc`), with a larger old space for ~17,000 connections, and waits until it listens.
 * Started here rather than through `orchestrator/servers.ts` only so that its log goes to a file of its
 * own instead of the bench's shared `sb-redis.log`.
 */
export async function startInstance(
  index: number,
  redisUrl: string,
  maxOldSpaceMiB: number,
  timeoutMs = 60_000,
): Promise<Instance> {
  const child = startNode(`instance-${index}`, 'servers/main.ts', ['sb', '0'], {
    nodeFlags: ['--expose-gc', `--max-old-space-size=${maxOldSpaceMiB}`],
    env: { BENCH_REDIS_URL: redisUrl, BENCH_DEFER_LISTEN: '0' },
    logFile: join(scaleLogDir, `instance-${index}.log`),
  });
  const event = await child.ipc.waitForEvent(['listening', 'failed'], timeoutMs).catch(async (error) => {
    await child.kill();
    throw error;
  });
  if (event.type === 'failed') {
    await child.kill();
    throw new Error(`instance ${index} failed to start: ${String(event.reason)}`);
  }
  return {
    index,
    child,
    pid: child.pid,
    port: event.port as number,
    async memoryAfterGc(gcTimeoutMs) {
      const usage = await child.ipc.call<NodeJS.MemoryUsage>('memory', undefined, gcTimeoutMs);
      return { rssBytes: readProc(child.pid).rssBytes, heapUsedBytes: usage.heapUsed };
    },
  };
}
