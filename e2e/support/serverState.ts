import { readFileSync, writeFileSync } from 'node:fs';
import type { DemoServerSettings } from './demoServer.ts';

/**
 * The running server, shared by the global setup (which starts it), the tests (one restarts it) and the
 * teardown (which stops whichever process is current), through a JSON file named in this env var.
 */
export const STATE_FILE_ENV = 'SWITCHBOARD_E2E_STATE';

export interface ServerState extends DemoServerSettings {
  pid: number;
}

export function writeServerState(file: string, state: ServerState): void {
  writeFileSync(file, JSON.stringify(state));
}

export function readServerState(): { file: string; state: ServerState } {
  const file = process.env[STATE_FILE_ENV];
  if (!file)
    throw new Error(`${STATE_FILE_ENV} is not set: run the suite with "playwright test" (its global setup)`);
  return { file, state: JSON.parse(readFileSync(file, 'utf8')) as ServerState };
}
