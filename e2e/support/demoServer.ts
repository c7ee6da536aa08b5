/**
 * Starts and stops the demo server as a real child process (`node --import tsx apps/server/src/main.ts`),
 * as `pnpm start` runs it, so the suite tests what users run. Node directly rather than `pnpm start`: one
 * process, so killing its pid stops the server and leaves nothing behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');
const SERVER_DIR = join(REPO_ROOT, 'apps', 'server');
/** The apps the server serves; each must be built before the suite runs. */
export const DEMO_APPS = ['chat', 'dashboard', 'collab'] as const;

/** Longest wait for the server's "listening" log line, in ms. */
const START_TIMEOUT_MS = 30_000;
/** Longest wait for a graceful stop before SIGKILL, in ms. */
const STOP_TIMEOUT_MS = 10_000;

export interface DemoServerSettings {
  port: number;
  authSecret: string;
  /** Appended to, across restarts. */
  logFile: string;
}

/** Fails with the fix in the message when an app was not built (turbo builds them before `test:e2e`). */
export function assertAppsBuilt(): void {
  const missing = DEMO_APPS.filter((app) => !existsSync(join(REPO_ROOT, 'apps', app, 'dist', 'index.html')));
  if (missing.length > 0) {
    throw new Error(
      `apps not built: ${missing.map((app) => `apps/${app}/dist`).join(', ')} missing. ` +
        'Run "pnpm build" first ("pnpm test:e2e" from the repo root builds them through turbo).',
    );
  }
}

/** A port nobody listens on right now (the OS picks it). */
export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** Spawns the server and resolves with its pid once it logs that it listens. */
export async function startServerProcess(settings: DemoServerSettings): Promise<number> {
  const log = createWriteStream(settings.logFile, { flags: 'a' });
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: SERVER_DIR,
    env: {
      ...process.env,
      PORT: String(settings.port),
      HOST: '127.0.0.1',
      AUTH_SECRET: settings.authSecret,
      // Short heartbeats: a dead socket is noticed within seconds, not the default 40.
      HEARTBEAT_INTERVAL_MS: '2000',
      HEARTBEAT_TIMEOUT_MS: '2000',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr?.pipe(log);
  const lines = createInterface({ input: child.stdout! });

  return new Promise<number>((resolve, reject) => {
    const fail = (message: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${message}; server log: ${settings.logFile}`));
    };
    const timer = setTimeout(() => fail(`demo server did not listen within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    child.once('exit', (code) => fail(`demo server exited early with code ${code}`));
    lines.on('line', (line) => {
      log.write(`${line}\n`);
      if (line.includes('"msg":"listening"')) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        // The pipes stay read (into the log) so a chatty server never blocks on a full pipe.
        child.unref();
        (child.stdout as unknown as { unref?: () => void }).unref?.();
        (child.stderr as unknown as { unref?: () => void }).unref?.();
        resolve(child.pid!);
      }
    });
  });
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM (the server drains and closes sockets with 1001), then SIGKILL if it takes too long. */
export async function stopServerProcess(pid: number): Promise<void> {
  if (!isRunning(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (isRunning(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
