/**
 * `pnpm start` as a person meets it: the demo server's main.ts as a real child process (node with tsx as a
 * loader), its stdout and stderr read as they would appear in a terminal. Each process is killed by pid
 * after its test.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { freePort } from './__tests__/serverProcess.ts';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const APP_DIR = fileURLToPath(new URL('../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sb-startup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Started {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  exited: Promise<number | null>;
}

const children: ChildProcess[] = [];
const squatters: Server[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  // (A detached pnpm's server is in its group; both are gone once the test saw pnpm exit.)
  await Promise.all(squatters.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

function start(env: Record<string, string>): Started {
  const { AUTH_SECRET: _secret, REDIS_URL: _redis, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: APP_DIR,
    env: {
      ...inherited,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      AUTH_SECRET_FILE: join(dir, 'secret'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exited,
  };
}

/** Resolves once the server printed the URL to open; rejects if it exits or stays silent for 20 s. */
async function opened(started: Started): Promise<string> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const match = /^Switchboard demo: open (http:\/\/\S+)\/$/m.exec(started.stdout);
    if (match) return match[1]!;
    if (started.child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no URL printed:\n${started.stdout}\n${started.stderr}`);
}

/** Ctrl+C as a terminal sends it. */
async function interrupt(started: Started): Promise<number | null> {
  started.child.kill('SIGINT');
  return started.exited;
}

describe('demo server start', () => {
  it('prints the URL to open, and exits 0 on Ctrl+C', async () => {
    const port = await freePort();
    const started = start({ PORT: String(port) });
    expect(await opened(started)).toBe(`http://127.0.0.1:${port}`);
    expect(await interrupt(started)).toBe(0);
    expect(started.stderr).toBe('');
  }, 30_000);

  it('exits 0 without an error from pnpm when Ctrl+C reaches the whole `pnpm start` process group', async () => {
    const port = await freePort();
    const { AUTH_SECRET: _secret, REDIS_URL: _redis, ...inherited } = process.env;
    // Detached: its own process group, which a terminal's Ctrl+C signals as a whole (pnpm relays it again).
    const pnpm = spawn('pnpm', ['--filter', '@switchboard/demo-server', 'start'], {
      cwd: APP_DIR,
      detached: true,
      env: { ...inherited, PORT: String(port), AUTH_SECRET_FILE: join(dir, 'secret') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(pnpm);
    let output = '';
    pnpm.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    pnpm.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => pnpm.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + 20_000;
    while (!output.includes('Switchboard demo: open') && Date.now() < deadline && pnpm.exitCode === null)
      await new Promise((resolve) => setTimeout(resolve, 50));
    process.kill(-pnpm.pid!, 'SIGINT');
    expect(await exited).toBe(0);
    expect(output).not.toMatch(/ELIFECYCLE|ERR_PNPM|Command failed/);
    expect(output).toContain('"msg":"server closed"');
  }, 30_000);

  it('names the port and PORT in one line and exits 1 when the port is taken', async () => {
    const squatter = createServer();
    squatters.push(squatter);
    const port = await new Promise<number>((resolve) =>
      squatter.listen(0, '127.0.0.1', () => resolve((squatter.address() as { port: number }).port)),
    );
    const started = start({ PORT: String(port) });
    expect(await started.exited).toBe(1);
    expect(started.stderr).toBe(
      `Switchboard demo: port ${port} is already in use: set PORT to a free port (e.g. PORT=${port + 1} pnpm start) or stop the other server\n`,
    );
  }, 30_000);

  it('refuses a short AUTH_SECRET in one line naming the variable', async () => {
    const started = start({ PORT: String(await freePort()), AUTH_SECRET: 'too-short' });
    expect(await started.exited).toBe(1);
    expect(started.stderr).toBe(
      'Switchboard demo: AUTH_SECRET is 9 bytes, at least 32 needed: set AUTH_SECRET=$(openssl rand -hex 32)\n',
    );
  }, 30_000);

  it('keeps people signed in across a restart without AUTH_SECRET (the generated secret is kept)', async () => {
    const secretFile = join(dir, 'restart-secret');
    const port = await freePort();
    const first = start({ PORT: String(port), AUTH_SECRET_FILE: secretFile });
    const url = await opened(first);
    expect(first.stdout).toContain(`created a secret in ${secretFile}`);
    const login = await fetch(`${url}/auth/dev-login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ann' }),
    });
    const { token } = (await login.json()) as { token: string };
    expect(await interrupt(first)).toBe(0);

    const second = start({ PORT: String(port), AUTH_SECRET_FILE: secretFile });
    await opened(second);
    expect(second.stdout).toContain(`using the secret in ${secretFile}`);
    const check = await fetch(`${url}/auth/check`, { headers: { authorization: `Bearer ${token}` } });
    expect(check.status).toBe(200);
    expect(await interrupt(second)).toBe(0);
  }, 40_000);

  it('starts with Redis unreachable, says why in /readyz and the log, never ioredis noise on stderr', async () => {
    const redisPort = await freePort();
    const started = start({
      PORT: String(await freePort()),
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    });
    const url = await opened(started);
    const readyz = await fetch(`${url}/readyz`);
    expect(readyz.status).toBe(503);
    expect(await readyz.json()).toEqual({
      status: 'unavailable',
      broker: 'unavailable',
      reason: `redis 127.0.0.1:${redisPort}: connect ECONNREFUSED`,
    });
    // Reconnect attempts keep failing meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const warnings = started.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg: string; reason?: string })
      .filter((line) => line.msg.startsWith('redis broker'));
    expect(warnings).toEqual([
      expect.objectContaining({
        msg: 'redis broker unavailable',
        reason: `redis 127.0.0.1:${redisPort}: connect ECONNREFUSED`,
      }),
    ]);
    expect(started.stderr).toBe('');
    expect(await interrupt(started)).toBe(0);
  }, 30_000);
});
