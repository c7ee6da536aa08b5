import { createServer, type Server } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { TEST_SECRET, testChannels, testRouter } from './__tests__/testServer.ts';
import { createSwitchboardServer, type SwitchboardServer } from './server.ts';

const opened: (SwitchboardServer | Server)[] = [];
afterEach(async () => {
  for (const it of opened.splice(0)) {
    if ('broker' in it) await it.close();
    else await new Promise((resolve) => it.close(resolve));
  }
});

describe('server.listen', () => {
  it('rejects with one line naming the port and what to do when the port is taken', async () => {
    const squatter = createServer();
    opened.push(squatter);
    const port = await new Promise<number>((resolve) =>
      squatter.listen(0, '127.0.0.1', () => resolve((squatter.address() as { port: number }).port)),
    );
    const server = createSwitchboardServer({
      router: testRouter,
      channels: testChannels,
      jwt: { secret: TEST_SECRET },
      logger: pino({ level: 'silent' }),
    });
    opened.push(server);
    const error: Error & { code?: string } = await server.listen(port, '127.0.0.1').then(
      () => new Error('listened on a taken port'),
      (rejected: unknown) => rejected as Error,
    );
    expect(error.message).toBe(
      `port ${port} on 127.0.0.1 is already in use: stop the other process or choose another port (EADDRINUSE)`,
    );
    expect(error.code).toBe('EADDRINUSE');
    expect(error.message).not.toContain('\n');
  });
});
