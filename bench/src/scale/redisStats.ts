import { Redis } from 'ioredis';

/**
 * What redis-server says about itself, read over one extra connection: CPU from `INFO cpu` (getrusage,
 * microsecond resolution, where /proc/<pid>/stat counts 10 ms ticks: one broadcast costs Redis far less
 * than a tick), memory, clients, and calls per command.
 */
export interface RedisSnapshot {
  /** used_cpu_user + used_cpu_sys, in ms. */
  cpuMs: number;
  usedMemoryBytes: number;
  rssBytes: number;
  connectedClients: number;
  /** Per command (lower case): calls and total µs, from `INFO commandstats`. */
  commands: Record<string, { calls: number; usec: number }>;
}

function fields(info: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of info.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) map.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return map;
}

export async function connectRedisStats(url: string): Promise<{
  snapshot(): Promise<RedisSnapshot>;
  /** Only `INFO cpu` (a full INFO costs Redis ~200 µs, as much as a broadcast): bracket a window with this. */
  cpuMs(): Promise<number>;
  close(): void;
}> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectionName: 'scale-stats' });
  await redis.connect();
  return {
    async snapshot() {
      const all = fields(await redis.info('everything'));
      const commands: RedisSnapshot['commands'] = {};
      for (const [key, value] of all) {
        if (!key.startsWith('cmdstat_')) continue;
        const calls = Number(/calls=(\d+)/.exec(value)?.[1] ?? 0);
        const usec = Number(/usec=(\d+)/.exec(value)?.[1] ?? 0);
        commands[key.slice('cmdstat_'.length)] = { calls, usec };
      }
      return {
        cpuMs: (Number(all.get('used_cpu_user')) + Number(all.get('used_cpu_sys'))) * 1000,
        usedMemoryBytes: Number(all.get('used_memory')),
        rssBytes: Number(all.get('used_memory_rss')),
        connectedClients: Number(all.get('connected_clients')),
        commands,
      };
    },
    async cpuMs() {
      const cpu = fields(await redis.info('cpu'));
      return (Number(cpu.get('used_cpu_user')) + Number(cpu.get('used_cpu_sys'))) * 1000;
    },
    close() {
      redis.disconnect();
    },
  };
}

/** Commands that run a script: everything else in `INFO commandstats` may have been called from inside one. */
export const SCRIPT_COMMANDS = ['eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'fcall', 'fcall_ro'];

/** Calls and µs per command between two snapshots (commands that were called only). */
export function commandDelta(before: RedisSnapshot, after: RedisSnapshot) {
  const delta: Record<string, { calls: number; usecPerCall: number }> = {};
  for (const [name, now] of Object.entries(after.commands)) {
    const was = before.commands[name] ?? { calls: 0, usec: 0 };
    const calls = now.calls - was.calls;
    if (calls > 0) delta[name] = { calls, usecPerCall: (now.usec - was.usec) / calls };
  }
  return delta;
}
