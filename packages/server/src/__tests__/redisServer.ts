/**
 * Test fixture: real `redis-server` processes on free ports of 127.0.0.1, for tests that need Redis to
 * fail for real (kill -9, restart, SIGSTOP). Without persistence (`--save "" --appendonly no`), so a
 * restart loses the data as a crashed Redis without AOF would.
 *
 * Every process is tracked by pid and killed by `close()`; should the test process die first, by an exit
 * hook or, when it was killed outright, by a watchdog shell that kills Redis once its parent is gone.
 * Add a helper here when a test needs another failure; keep each one bounded in time.
 *
 *   const redis = await startRedisServer();       // redis.url, redis.port
 *   await redis.pause(); await redis.resume();    // SIGSTOP / SIGCONT
 *   await redis.kill(); await redis.restart();    // SIGKILL, then a new process on the same port
 *   const cluster = await startRedisCluster();    // 3 masters, cluster.urls
 *   await redis.close(); await cluster.close();
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 5000;
const live = new Set<ChildProcess>();

process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Pid of the current process (changes on restart). */
  readonly pid: number | undefined;
  /** SIGKILL, and waits until the process is gone. */
  kill(): Promise<void>;
  /** Starts a new process on the same port (after `kill`). */
  restart(): Promise<void>;
  /** SIGSTOP: Redis keeps its connections open but answers nothing. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** Runs a redis-cli command against this server and returns its output. */
  cli(...args: string[]): Promise<string>;
  close(): Promise<void>;
}

export interface RedisCluster {
  readonly nodes: RedisServer[];
  /** Seed URLs of all nodes. */
  readonly urls: string[];
  close(): Promise<void>;
}

/** A port that is free now, and (for the cluster bus) whose +10000 neighbour is free too. */
async function freePort(withBusPort = false): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = withBusPort ? 20000 + Math.floor(Math.random() * 20000) : await osPort();
    if (!(await isFree(port))) continue;
    if (withBusPort && !(await isFree(port + 10000))) continue;
    return port;
  }
  throw new Error('no free port found in 50 attempts');
}

function osPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

/** Spawns redis-server and resolves once it logs that it accepts connections. */
function spawnRedis(port: number, dir: string, extraArgs: string[]): Promise<ChildProcess> {
  const args = [
    '--port',
    String(port),
    '--bind',
    HOST,
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--loglevel',
    'notice',
    ...extraArgs,
  ];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (child.pid !== undefined) startWatchdog(child.pid);
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () =>
        fail(new Error(`redis-server on ${port} did not start within ${START_TIMEOUT_MS} ms:\n${output}`)),
      START_TIMEOUT_MS,
    );
    function fail(error: Error) {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    }
    child.stdout!.on('data', (chunk: Buffer) => {
      if (output.length < 10_000) output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume();
        resolve(child);
      }
    });
    child.stderr!.resume();
    child.once('exit', (code) => fail(new Error(`redis-server on ${port} exited with ${code}:\n${output}`)));
  });
}

/**
 * Kills `redisPid` once this process is gone (SIGKILL or a timeout skips exit hooks). Checks every second,
 * for at most an hour, and stops as soon as Redis exits on its own.
 */
function startWatchdog(redisPid: number) {
  const script = [
    'i=0',
    'while [ $i -lt 3600 ]; do',
    '  kill -0 "$2" 2>/dev/null || exit 0',
    '  kill -0 "$1" 2>/dev/null || { kill -9 "$2"; exit 0; }',
    '  sleep 1; i=$((i+1))',
    'done',
  ].join('\n');
  const watchdog = spawn('sh', ['-c', script, 'redis-watchdog', String(process.pid), String(redisPid)], {
    stdio: 'ignore',
    detached: true,
  });
  watchdog.unref();
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startRedisServer(
  options: { extraArgs?: string[]; withBusPort?: boolean } = {},
): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-redis-'));
  const extraArgs = options.extraArgs ?? [];
  let port = 0;
  let child: ChildProcess | undefined;
  for (let attempt = 0; attempt < 5 && !child; attempt++) {
    port = await freePort(options.withBusPort);
    // Another process may take the port between the check and the bind: try another one.
    child = await spawnRedis(port, dir, extraArgs).catch(() => undefined);
  }
  if (!child) throw new Error('redis-server did not start in 5 attempts');
  let current: ChildProcess | undefined = child;

  const server: RedisServer = {
    port,
    url: `redis://${HOST}:${port}`,
    get pid() {
      return current?.pid;
    },
    async kill() {
      const dying = current;
      current = undefined;
      if (!dying) return;
      dying.kill('SIGKILL');
      await waitForExit(dying);
    },
    async restart() {
      if (current) throw new Error('kill() the server before restart()');
      current = await spawnRedis(port, dir, extraArgs);
    },
    pause() {
      current?.kill('SIGSTOP');
    },
    resume() {
      current?.kill('SIGCONT');
    },
    async cli(...args) {
      const { stdout } = await run('redis-cli', ['-h', HOST, '-p', String(port), ...args], {
        timeout: START_TIMEOUT_MS,
      });
      return stdout.trim();
    },
    async close() {
      await server.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

/** Three masters joined with `redis-cli --cluster create`, no replicas; resolves when the cluster is ok. */
export async function startRedisCluster(): Promise<RedisCluster> {
  const nodes: RedisServer[] = [];
  const close = async () => {
    await Promise.all(nodes.map((node) => node.close()));
  };
  try {
    for (let i = 0; i < 3; i++) {
      nodes.push(
        await startRedisServer({
          withBusPort: true,
          extraArgs: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            `nodes-${i}.conf`,
            '--cluster-node-timeout',
            '2000',
          ],
        }),
      );
    }
    const addresses = nodes.map((node) => `${HOST}:${node.port}`);
    await run(
      'redis-cli',
      ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'],
      { timeout: 20_000 },
    );
    // The nodes agree through the cluster bus a moment later; poll (bounded) until every node says ok.
    const deadline = Date.now() + 10_000;
    for (const node of nodes) {
      while (!(await node.cli('cluster', 'info')).includes('cluster_state:ok')) {
        if (Date.now() > deadline) throw new Error('cluster did not reach cluster_state:ok within 10 s');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { nodes, urls: nodes.map((node) => node.url), close };
}
