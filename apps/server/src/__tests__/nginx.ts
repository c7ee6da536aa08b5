/**
 * Test fixture: Debian's nginx running `deploy/nginx.conf` (the documented example), with its upstream and
 * listen ports rewritten to the test's processes, so the example itself is what gets tested.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './serverProcess.ts';

const EXAMPLE = fileURLToPath(new URL('../../../../deploy/nginx.conf', import.meta.url));

export interface Nginx {
  port: number;
  wsUrl: string;
  stop(): Promise<void>;
}

export async function startNginx(upstreamPorts: number[]): Promise<Nginx> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sb-nginx-'));
  const servers = upstreamPorts
    .map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=2s;`)
    .join('\n');
  const config = readFileSync(EXAMPLE, 'utf8')
    .replace(/(\n\s*server 127\.0\.0\.1:\d+ [^\n]*)+/, `\n${servers}`)
    .replace(/listen \d+;/, `listen 127.0.0.1:${port};`)
    .replace(/pid [^;]+;/, `pid ${join(dir, 'nginx.pid')};`)
    .replace(/worker_processes auto;/, 'worker_processes 1;\ndaemon off;')
    .replace(/worker_connections \d+;/, 'worker_connections 1024;');
  const configPath = join(dir, 'nginx.conf');
  writeFileSync(configPath, config);
  const child: ChildProcess = spawn('nginx', ['-p', dir, '-c', configPath, '-e', 'stderr'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let errors = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    errors += chunk.toString();
  });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`nginx did not start: ${errors}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    port,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    async stop() {
      // SIGTERM is nginx's fast shutdown; SIGQUIT would wait for every open WebSocket.
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
