import { readConfig, startDemoServer } from './index.ts';

/** `pnpm start`: the demo server, configured from the environment, stopped gracefully on SIGINT/SIGTERM. */
const demo = await startDemoServer(readConfig());
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    demo.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
