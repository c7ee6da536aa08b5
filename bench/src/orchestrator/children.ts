import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IpcClient } from '../ipc.ts';

/** The bench package folder: children run from here so `--import tsx` resolves. */
export const benchDir = fileURLToPath(new URL('../../', import.meta.url));

/** Every process this run started, so a crash or Ctrl-C kills exactly these (by pid) and nothing else. */
const live = new Set<ChildProcess>();

export function killAllChildren(): void {
  for (const child of live) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
process.on('exit', killAllChildren);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killAllChildren();
    process.exit(130);
  });
}

export interface NodeChild {
  readonly name: string;
  readonly pid: number;
  readonly process: ChildProcess;
  readonly ipc: IpcClient;
  readonly exited: Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts `node <flags> --import tsx <entry> <args>` with the open-files soft limit raised to the hard
 * limit (`exec` keeps the pid, so /proc/<pid>/stat is the Node process itself).
 */
export function startNode(
  name: string,
  entry: string,
  args: string[],
  options: { nodeFlags?: string[]; env?: NodeJS.ProcessEnv; logFile?: string } = {},
): NodeChild {
  // Server logs go to a file: a warning storm (e.g. Redis timeouts under load) must not bury the table.
  let output: number | 'inherit' = 'inherit';
  if (options.logFile) {
    mkdirSync(dirname(options.logFile), { recursive: true });
    output = openSync(options.logFile, 'a');
  }
  const child = spawn(
    'bash',
    [
      '-c',
      'ulimit -n "$(ulimit -Hn)" && exec "$@"',
      'bash',
      process.execPath,
      ...(options.nodeFlags ?? []),
      '--import',
      'tsx',
      fileURLToPath(new URL(`../${entry}`, import.meta.url)),
      ...args,
    ],
    {
      cwd: benchDir,
      stdio: ['ignore', output, output, 'ipc'],
      env: { ...process.env, ...options.env },
    },
  );
  if (typeof output === 'number') closeSync(output);
  if (child.pid === undefined) throw new Error(`${name}: spawn failed`);
  live.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => live.delete(child));
  return {
    name,
    pid: child.pid,
    process: child,
    ipc: new IpcClient(child, name),
    exited,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** Starts a non-Node helper (redis-server) that is killed with the rest on exit. */
export function spawnTracked(command: string, args: string[]): ChildProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}
