import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertAppsBuilt, findFreePort, startServerProcess, stopServerProcess } from './demoServer.ts';
import { readServerState, STATE_FILE_ENV, writeServerState } from './serverState.ts';

/** Fixed, so tokens stay valid when a test restarts the server (as they do across a real deploy). */
const AUTH_SECRET = 'switchboard-e2e-secret-not-for-production';
/** Where the server log is kept after the run, beside Playwright's own output. */
const KEPT_LOG = join(import.meta.dirname, '..', 'test-results', 'server.log');

/**
 * Checks the apps are built, starts one demo server on a free port for the whole run, and returns the
 * teardown that stops it (by pid) and keeps its log in test-results/.
 */
export default async function globalSetup() {
  assertAppsBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-e2e-'));
  const settings = { port: await findFreePort(), authSecret: AUTH_SECRET, logFile: join(dir, 'server.log') };
  const stateFile = join(dir, 'server.json');
  try {
    const pid = await startServerProcess(settings);
    writeServerState(stateFile, { ...settings, pid });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  process.env[STATE_FILE_ENV] = stateFile;

  return async function globalTeardown() {
    const { state } = readServerState();
    await stopServerProcess(state.pid);
    mkdirSync(join(KEPT_LOG, '..'), { recursive: true });
    copyFileSync(state.logFile, KEPT_LOG);
    rmSync(dir, { recursive: true, force: true });
  };
}
