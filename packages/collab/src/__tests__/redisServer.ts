/**
 * A real `redis-server` for tests: started on a free 127.0.0.1 port with persistence off, killed by pid in
 * `stop()`. Start one per test file in `beforeAll` and stop it in `afterAll`.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

export interface RedisServer {
  port: number;
  url: string;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const done = (error?: Error) => {
      clearTimeout(timer);
      child.off('exit', childOnExit);
      child.off('error', done);
      child.stdout.off('data', stdoutOnData);
      if (!error) return resolve();
      child.kill('SIGKILL');
      reject(error);
    };
    const childOnExit = (code: number | null) =>
      done(new Error(`redis-server exited with ${code}: ${output}`));
    const stdoutOnData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) done();
    };
    const timer = setTimeout(
      () => done(new Error(`redis-server did not start: ${output}`)),
      START_TIMEOUT_MS,
    );
    child.on('exit', childOnExit);
    child.on('error', done);
    child.stdout.on('data', stdoutOnData);
  });
  // Keep draining the pipes so a chatty server never blocks on a full buffer.
  child.stdout.resume();
  child.stderr.resume();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
