import { readFileSync } from 'node:fs';

/**
 * Summarises a V8 `.cpuprofile` (what `node --cpu-prof` writes) over chosen time windows: self and
 * inclusive time per function, and per area (ws, Switchboard, tRPC, Socket.IO, Node internals, GC).
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileRow {
  fn: string;
  where: string;
  area: string;
  selfPct: number;
  totalPct: number;
}

export interface ProfileSummary {
  /** Sampled time inside the windows, idle excluded, in ms. */
  busyMs: number;
  idleMs: number;
  windowed: boolean;
  /** Top functions by self time. */
  top: ProfileRow[];
  /** Top functions by inclusive time (callers of the hot spots). */
  topInclusive: ProfileRow[];
  areas: { area: string; selfPct: number }[];
}

function shortUrl(url: string): string {
  const pnpm = /node_modules\/\.pnpm\/[^/]+\/node_modules\/(.+)$/.exec(url);
  if (pnpm) return pnpm[1]!;
  const repo = /\/work\/main\/(.+)$/.exec(url) ?? /([^/]+\/src\/.+)$/.exec(url);
  if (repo) return repo[1]!;
  return url.replace(/^file:\/\//, '');
}

function areaOf(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(program)') return '(program: native, syscalls)';
  if (functionName === '(idle)') return '(idle)';
  if (url.includes('/packages/server/')) return 'Switchboard server';
  if (url.includes('/packages/protocol/')) return 'Switchboard protocol';
  if (url.includes('/bench/src/')) return 'bench server code';
  if (/node_modules\/.*\/ws\//.test(url)) return 'ws';
  if (url.includes('@trpc')) return 'tRPC';
  if (/socket\.io|engine\.io/.test(url)) return 'Socket.IO / Engine.IO';
  if (url.includes('/zod/')) return 'zod';
  if (url.includes('superjson')) return 'superjson';
  if (url.startsWith('node:') || url === '') return 'Node internals / native';
  return shortUrl(url).split('/')[0] ?? 'other';
}

export function summariseProfile(file: string, windows: [number, number][], topN = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const windowed = windows.some(([from, to]) => to > profile.startTime && from < profile.endTime);
  const inWindow = (t: number) => !windowed || windows.some(([from, to]) => t >= from && t <= to);

  const selfUs = new Map<string, number>();
  const totalUs = new Map<string, number>();
  const areaUs = new Map<string, number>();
  const meta = new Map<string, { fn: string; where: string; area: string }>();
  let busy = 0;
  let idle = 0;
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (!inWindow(t)) continue;
    const node = byId.get(profile.samples[i]!)!;
    const area = areaOf(node.callFrame);
    if (area === '(idle)') {
      idle += delta;
      continue;
    }
    busy += delta;
    areaUs.set(area, (areaUs.get(area) ?? 0) + delta);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id, depth = 0; id !== undefined; id = parent.get(id), depth++) {
      const frame = byId.get(id)!.callFrame;
      if (frame.functionName === '(root)') break;
      const where = frame.url ? `${shortUrl(frame.url)}:${frame.lineNumber + 1}` : '';
      const key = `${frame.functionName || '(anonymous)'} ${where}`;
      if (!meta.has(key))
        meta.set(key, { fn: frame.functionName || '(anonymous)', where, area: areaOf(frame) });
      if (depth === 0) selfUs.set(key, (selfUs.get(key) ?? 0) + delta);
      if (!seen.has(key)) {
        seen.add(key);
        totalUs.set(key, (totalUs.get(key) ?? 0) + delta);
      }
    }
  }
  const pct = (us: number) => (busy > 0 ? (us / busy) * 100 : 0);
  const top = [...selfUs.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, topN)
    .map(([key, us]) => ({ ...meta.get(key)!, selfPct: pct(us), totalPct: pct(totalUs.get(key) ?? 0) }));
  const topInclusive = [...totalUs.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, topN)
    .map(([key, us]) => ({ ...meta.get(key)!, selfPct: pct(selfUs.get(key) ?? 0), totalPct: pct(us) }));
  const areas = [...areaUs.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([area, us]) => ({ area, selfPct: pct(us) }));
  return { busyMs: busy / 1000, idleMs: idle / 1000, windowed, top, topInclusive, areas };
}
