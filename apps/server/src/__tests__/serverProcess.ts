/**
 * Test fixture: the demo server as a real child process (`tsx src/main.ts`), so tests can run several
 * instances on one Redis and kill one with SIGKILL like a crashed machine. Each process is stopped by pid
 * in `stop()`; register it in `afterEach`/`afterAll`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';

const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));
const APP_DIR = fileURLToPath(new URL('../../', import.meta.url));
export const CLUSTER_SECRET = 'cluster-test-secret-0123456789abcdef';

export interface ServerProcess {
  readonly port: number;
  readonly url: string;
  readonly wsUrl: string;
  readonly pid: number;
  /** SIGKILL: no graceful shutdown, no presence cleanup, like a crashed machine. */
  kill(): Promise<void>;
  /** SIGTERM: graceful shutdown. */
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (bound and released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export async function startServerProcess(env: Record<string, string>, port?: number): Promise<ServerProcess> {
  const boundPort = port ?? (await freePort());
  // Node itself with tsx as a loader, not the tsx CLI: the CLI runs the server in a child process, so a
  // SIGKILL would only kill the wrapper and leave the "dead" server serving.
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: APP_DIR,
    env: {
      ...process.env,
      PORT: String(boundPort),
      HOST: '127.0.0.1',
      AUTH_SECRET: CLUSTER_SECRET,
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within 20 s:\n${output}`)), 20_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('"msg":"listening"')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
  // Keep draining output so a full pipe never blocks the child; SERVER_LOG_DIR keeps it for debugging.
  const logDir = process.env.SERVER_LOG_DIR;
  if (logDir) {
    const log = createWriteStream(`${logDir}/server-${boundPort}.log`, { flags: 'a' });
    log.write(output);
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
  } else child.stdout!.resume();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = async (name: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(name);
    await exited;
  };
  return {
    port: boundPort,
    url: `http://127.0.0.1:${boundPort}`,
    wsUrl: `ws://127.0.0.1:${boundPort}/ws`,
    pid: child.pid!,
    kill: () => signal('SIGKILL'),
    stop: () => signal('SIGTERM'),
  };
}

/**
 * A token every instance accepts (they share AUTH_SECRET). Signed here rather than through dev-login,
 * whose per-address rate limit is part of what the server protects.
 */
export function signToken(userId: string, name = userId): Promise<string> {
  return new SignJWT({ name })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(CLUSTER_SECRET));
}
