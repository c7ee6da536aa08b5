/**
 * The demo server (apps/server) as the client's tests use it: in this process (`startDemoInProcess`, for
 * its HTTP routes such as /auth/check and /auth/dev-login), or as a real child process
 * (`startDemoProcess`) that a test can SIGKILL and start again on the same port. Both release everything
 * on `close()`/`kill()`; register them with `track`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readConfig, startDemoServer } from '@switchboard/demo-server';

export const DEMO_SECRET = 'demo-test-secret-0123456789abcdef0123';

export interface DemoEndpoint {
  port: number;
  wsUrl: string;
  httpUrl: string;
}

function endpoint(port: number): DemoEndpoint {
  return { port, wsUrl: `ws://127.0.0.1:${port}/ws`, httpUrl: `http://127.0.0.1:${port}` };
}

export async function startDemoInProcess(): Promise<DemoEndpoint & { close(): Promise<void> }> {
  const config = readConfig({ PORT: '0', HOST: '127.0.0.1', AUTH_SECRET: DEMO_SECRET, LOG_LEVEL: 'silent' });
  const demo = await startDemoServer(config, { drainTimeoutMs: 50 });
  return { ...endpoint(demo.port), close: () => demo.close() };
}

/** Signs in on the demo server's dev login; returns the token. */
export async function devLogin(httpUrl: string, name: string): Promise<string> {
  const response = await fetch(`${httpUrl}/auth/dev-login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  if (!response.ok) throw new Error(`dev-login failed with HTTP ${response.status}`);
  return ((await response.json()) as { token: string }).token;
}

export interface DemoProcess extends DemoEndpoint {
  /** SIGKILL: no drain, no close frames; resolves once the process is gone. */
  kill(): Promise<void>;
}

const require = createRequire(import.meta.url);
const demoMain = join(dirname(require.resolve('@switchboard/demo-server')), 'main.ts');
// `node --import tsx` runs the TypeScript entry in one process: SIGKILL must hit the server itself, not a
// wrapper that would leave it running (the tsx CLI runs the script in a child process).
const tsxLoader = pathToFileURL(require.resolve('tsx')).href;
const STARTUP_TIMEOUT_MS = 15_000;

/** Starts `apps/server` (in-memory broker) as a child process; `port` 0 picks a free one. */
export function startDemoProcess(port = 0): Promise<DemoProcess> {
  const child = spawn(process.execPath, ['--import', tsxLoader, demoMain], {
    cwd: dirname(dirname(demoMain)),
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      AUTH_SECRET: DEMO_SECRET,
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => fail(new Error(`demo server did not start in time:\n${output}`)),
      STARTUP_TIMEOUT_MS,
    );
    function fail(error: Error) {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    }
    const onEarlyExit = (code: number | null) =>
      fail(new Error(`demo server exited with ${code}:\n${output}`));
    child.once('exit', onEarlyExit);
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const listening = output
        .split('\n')
        .map((line) => parseJson(line))
        .find((line) => line?.msg === 'listening' && typeof line.port === 'number');
      if (!listening) return;
      clearTimeout(timer);
      child.off('exit', onEarlyExit);
      child.stdout!.removeAllListeners('data');
      child.stdout!.resume();
      child.stderr!.resume();
      resolve({ ...endpoint(listening.port as number), kill: () => killProcess(child, exited) });
    });
  });
}

async function killProcess(child: ChildProcess, exited: Promise<void>) {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await exited;
}

function parseJson(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
