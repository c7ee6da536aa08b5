import { readFileSync } from 'node:fs';
import { clockTickMs } from './procStat.ts';

/**
 * CPU time the whole machine spent busy so far, all cores, in ms: the `cpu` line of /proc/stat (user,
 * nice, system, idle, iowait, irq, softirq, steal, in clock ticks) without idle and iowait.
 */
function machineBusyMs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = ticks.reduce((sum, value) => sum + value, 0);
  return (total - ticks[3]! - ticks[4]!) * clockTickMs;
}

/**
 * Starts counting the machine's busy CPU time; the returned function gives the ms since the start. Minus
 * the CPU of the bench's own processes, it is what other work took from the shared cores during a
 * measurement: a latency taken while that was high measures the other work, not the system.
 */
export function machineBusyMeter(): () => number {
  const start = machineBusyMs();
  return () => machineBusyMs() - start;
}
