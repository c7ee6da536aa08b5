import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import os from 'node:os';
import { basename, dirname, join } from 'node:path';
import { benchDir } from './children.ts';

/** Finds `name`'s package.json as Node would from `fromDir` (pnpm links resolved), or undefined. */
function packageDir(name: string, fromDir: string): string | undefined {
  let dir = fromDir;
  for (;;) {
    const candidate =
      basename(dir) === 'node_modules'
        ? join(dir, name, 'package.json')
        : join(dir, 'node_modules', name, 'package.json');
    if (existsSync(candidate)) return dirname(realpathSync(candidate));
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function version(dir: string | undefined): string {
  if (!dir) return 'not found';
  return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

/** Versions of everything on the measured paths (each resolved from the package that really loads it). */
export function collectVersions(): Record<string, string> {
  const server = packageDir('@switchboard/server', benchDir);
  const socketIo = packageDir('socket.io', benchDir);
  const engineIo = socketIo && packageDir('engine.io', socketIo);
  let redis = 'not found';
  try {
    redis = /v=(\S+)/.exec(execFileSync('redis-server', ['--version']).toString())?.[1] ?? redis;
  } catch {}
  return {
    node: process.version,
    'ws (Switchboard, raw, load generator)': version(server && packageDir('ws', server)),
    '@trpc/server': version(server && packageDir('@trpc/server', server)),
    '@trpc/client': version(packageDir('@trpc/client', benchDir)),
    'socket.io': version(socketIo),
    'socket.io-adapter': version(socketIo && packageDir('socket.io-adapter', socketIo)),
    'engine.io': version(engineIo),
    'ws (engine.io)': version(engineIo && packageDir('ws', engineIo)),
    'socket.io-client': version(packageDir('socket.io-client', benchDir)),
    '@socket.io/redis-adapter': version(packageDir('@socket.io/redis-adapter', benchDir)),
    ioredis: version(packageDir('ioredis', benchDir)),
    'redis-server': redis,
    tsx: version(packageDir('tsx', benchDir)),
  };
}

/** The Switchboard server code measured: last commit touching packages/server, and whether it was edited since. */
function serverRevision(): string {
  const repo = join(benchDir, '..');
  try {
    const commit = execFileSync('git', ['-C', repo, 'log', '-1', '--format=%h %s', '--', 'packages/server'])
      .toString()
      .trim();
    const dirty = execFileSync('git', ['-C', repo, 'status', '--porcelain', '--', 'packages/server'])
      .toString()
      .trim();
    return `${commit}${dirty ? ' (plus uncommitted changes)' : ''}`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

export function loadAverage(): string {
  return os
    .loadavg()
    .map((v) => v.toFixed(2))
    .join(' ');
}

export function machine(): Record<string, unknown> {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    openFilesHardLimit: execFileSync('bash', ['-c', 'ulimit -Hn']).toString().trim(),
    loadBefore: loadAverage(),
    switchboardServer: serverRevision(),
  };
}
