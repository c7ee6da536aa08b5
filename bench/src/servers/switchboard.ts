import { defineChannel } from '@switchboard/protocol';
import { type Broker, createSwitchboardServer, initSwitchboard } from '@switchboard/server';
import pino from 'pino';
import { z } from 'zod';
import { BENCH_SECRET } from '../config.ts';
import { EVENT_TYPE } from '../wire.ts';
import type { CreatedServer } from './main.ts';

/** The bench channel family: stored `tick` events with the bench payload. */
export const benchChannel = defineChannel({
  family: 'bench',
  events: {
    [EVENT_TYPE]: { schema: z.object({ seq: z.number(), t: z.number(), pad: z.string() }) },
  },
});

const { router, channelRouter } = initSwitchboard();
export const benchRouter = router({ channel: channelRouter });
export type BenchRouter = typeof benchRouter;

/** Thrown when `@switchboard/server/redis` is not there yet; the orchestrator skips that row. */
export class RedisBrokerMissing extends Error {}

async function redisBroker(url: string): Promise<Broker> {
  let module: { createRedisBroker?: (options: { url: string }) => Broker | Promise<Broker> };
  try {
    // A variable specifier: the module is being written in parallel and may not exist when this is type-checked.
    const specifier = '@switchboard/server/redis';
    module = await import(specifier);
  } catch (cause) {
    throw new RedisBrokerMissing(`@switchboard/server/redis cannot be loaded: ${(cause as Error).message}`);
  }
  if (typeof module.createRedisBroker !== 'function') {
    throw new RedisBrokerMissing('@switchboard/server/redis does not export createRedisBroker');
  }
  return module.createRedisBroker({ url });
}

/**
 * Switchboard as an app would run it, with three bench settings: the log level is `warn` (at `info` it
 * writes a line per connection), `maxConnections` admits the 19,000-connection run, and the per-connection
 * rate limit is lifted because one publisher connection drives every publish.
 */
export async function createSwitchboardBenchServer(redisUrl: string | undefined): Promise<CreatedServer> {
  const broker = redisUrl ? await redisBroker(redisUrl) : undefined;
  const server = createSwitchboardServer({
    router: benchRouter,
    channels: [benchChannel],
    jwt: { secret: BENCH_SECRET },
    ...(broker ? { broker } : {}),
    logger: pino({ level: 'warn' }),
    maxConnections: 25_000,
    rateLimitPerSecond: 1_000_000,
    rateLimitBurst: 1_000_000,
  });
  return {
    async listen(port) {
      return (await server.listen(port, '127.0.0.1')).port;
    },
    // What an app does from its own code (a webhook, a job): the public server-side publish.
    publish: (channel, payload) => server.publish(channel, EVENT_TYPE, payload),
  };
}
