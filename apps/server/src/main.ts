import { ConfigError } from './config.ts';
import { type DemoServer, readConfig, startDemoServer } from './index.ts';

/**
 * `pnpm start`: the demo server, configured from the environment. A mistake in the configuration or a
 * port already taken ends the process with one line on stderr and exit code 1 (no stack: there is no bug
 * to debug). Ctrl+C (SIGINT) and SIGTERM close gracefully and exit 0, so pnpm reports no failure (the
 * `start` script `exec`s node, so no shell in between dies of the signal instead).
 */
let demo: DemoServer;
try {
  const config = readConfig();
  demo = await startDemoServer(config).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new ConfigError(
        `port ${config.port} is already in use: set PORT to a free port (e.g. PORT=${config.port + 1} pnpm start) or stop the other server`,
      );
    }
    throw error;
  });
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`Switchboard demo: ${error.message}\n`);
  process.exit(1);
}
process.stdout.write(`Switchboard demo: open ${demo.url}/\n`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    // Ctrl+C arrives twice under pnpm (the terminal's and pnpm's relay): later ones are ignored, and the
    // close is bounded anyway (drainTimeoutMs).
    if (stopping) return;
    stopping = true;
    demo.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
