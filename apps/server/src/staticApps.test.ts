/**
 * The built apps as files on disk: what a browser may fetch under `/<app>/`, and what it must not (dotfiles,
 * links leading out of the build, missing scripts answered with the page).
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from './config.ts';
import { type DemoServer, startDemoServer } from './index.ts';

let demo: DemoServer;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sb-static-'));
  const dist = join(dir, 'chat', 'dist');
  mkdirSync(join(dist, 'assets'), { recursive: true });
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>chat</title>');
  writeFileSync(join(dist, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(dist, '.env'), 'SECRET=1');
  writeFileSync(join(dir, 'outside.txt'), 'outside the build');
  symlinkSync(join(dir, 'outside.txt'), join(dist, 'link.txt'));
  demo = await startDemoServer(
    readConfig({ PORT: '0', AUTH_SECRET: 'static-test-secret-0123456789abcdef', APPS_DIR: dir }),
    { logger: pino({ level: 'silent' }) },
  );
});
afterAll(async () => {
  await demo?.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = async (path: string) => {
  const res = await fetch(`${demo.url}${path}`);
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
};

describe('static apps', () => {
  it('serves the build, and its page for app routes', async () => {
    expect(await get('/chat/assets/app.js')).toMatchObject({ status: 200, body: 'console.log(1)' });
    expect(await get('/chat/rooms/lobby')).toMatchObject({
      status: 200,
      type: expect.stringContaining('text/html'),
    });
  });

  it('answers 404 for dotfiles, links out of the build and missing files with an extension', async () => {
    for (const path of ['/chat/.env', '/chat/%2eenv', '/chat/link.txt', '/chat/assets/missing.js']) {
      expect((await get(path)).status, path).toBe(404);
    }
  });
});
