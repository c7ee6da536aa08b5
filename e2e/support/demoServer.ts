/**
 * Starts and stops the demo server as a real child process (`node --import tsx src/main.ts` in apps/server,
 * what `pnpm start` runs), so the suite tests what users run. Node directly rather than `pnpm start`: one
 * process, so killing its pid stops the server and leaves nothing behind.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');
const SERVER_DIR = join(REPO_ROOT, 'apps', 'server');
/** The apps the server serves; each must be built before the suite runs. */
export const DEMO_APPS = ['chat', 'dashboard', 'collab'] as const;

/** Longest wait for a starting server to answer `/healthz`, in ms. */
const START_TIMEOUT_MS = 30_000;
/** How often a starting server is asked, in ms. */
const HEALTH_POLL_MS = 100;
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

/** Spawns the server and resolves with its pid once `/healthz` answers. */
export async function startServerProcess(settings: DemoServerSettings): Promise<number> {
  // Output goes straight to a file, not a pipe: the server outlives the worker that restarts it, and a
  // pipe whose reader is gone would fail its next log write.
  const logFd = openSync(settings.logFile, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
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
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  child.unref();
  let exitCode: number | null | undefined;
  child.once('exit', (code) => {
    exitCode = code;
  });

  const url = `http://127.0.0.1:${settings.port}/healthz`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exitCode !== undefined) {
      throw new Error(`demo server exited with code ${exitCode} while starting; log: ${settings.logFile}`);
    }
    const healthy = await fetch(url).then(
      (response) => response.ok,
      () => false,
    );
    if (healthy) return child.pid!;
    await new Promise((resolve) => setTimeout(resolve, HEALTH_POLL_MS));
  }
  child.kill('SIGKILL');
  throw new Error(
    `demo server did not answer ${url} within ${START_TIMEOUT_MS} ms; log: ${settings.logFile}`,
  );
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
