import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
const pageBytes = Number(execFileSync('getconf', ['PAGESIZE']).toString().trim()) || 4096;

export interface ProcSample {
  /** utime + stime of the whole process (all threads), in ms. */
  cpuMs: number;
  rssBytes: number;
}

/** CPU time and RSS of a process from /proc/<pid>/stat (the least noisy figure on a shared machine). */
export function readProc(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const rssPages = Number(fields[21]);
  return { cpuMs: ((utime + stime) * 1000) / ticksPerSecond, rssBytes: rssPages * pageBytes };
}

/** CPU milliseconds a set of processes used between two calls. */
export function cpuMeter(pids: number[]): () => number {
  const before = pids.map((pid) => readProc(pid).cpuMs);
  return () => pids.reduce((sum, pid, i) => sum + readProc(pid).cpuMs - before[i]!, 0);
}

export const clockTickMs = 1000 / ticksPerSecond;
