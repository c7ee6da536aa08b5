import { readFileSync } from 'node:fs';

const pageBytes = 4096;

/**
 * TCP sockets and the kernel memory their buffers hold, machine-wide, from /proc/net/sockstat. Process RSS
 * does not include this; on loopback both ends of every connection are on this machine.
 */
export function tcpSockstat(): { inUse: number; allocated: number; memBytes: number } {
  const line = readFileSync('/proc/net/sockstat', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('TCP:'));
  const value = (name: string) => Number(new RegExp(`\\b${name} (\\d+)`).exec(line ?? '')?.[1] ?? Number.NaN);
  return { inUse: value('inuse'), allocated: value('alloc'), memBytes: value('mem') * pageBytes };
}
