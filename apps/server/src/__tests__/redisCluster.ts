/**
 * Test fixture shared by the scale-out, chaos and collab suites: one real Redis, N demo-server processes on
 * it, and recording clients, all released in `afterAll`. `useInstancesOnRedis(3)` at the top of a file.
 */
import { type RedisServer, startRedisServer } from '@switchboard/server/testing';
import { afterAll, beforeAll } from 'vitest';
import { type ChannelClient, createRecordingClient } from './channelClient.ts';
import { type ServerProcess, startServerProcess } from './serverProcess.ts';

/** Limits high enough that tests publishing hundreds of events per connection are not rate limited. */
export const TEST_LIMITS = {
  RATE_LIMIT_PER_SECOND: '100000',
  RATE_LIMIT_BURST: '100000',
  PRESENCE_TTL_MS: '1500',
};

export interface InstancesOnRedis {
  readonly redis: RedisServer;
  /** The running instances; a test that kills one may replace it with `startInstance()`. */
  readonly servers: ServerProcess[];
  /** Another instance on the same Redis (stopped in `afterAll` too). */
  startInstance(env?: Record<string, string>): Promise<ServerProcess>;
  /** A recording client, closed in `afterAll`. */
  client(options: Parameters<typeof createRecordingClient>[0]): ChannelClient;
}

export function useInstancesOnRedis(count: number): InstancesOnRedis {
  const servers: ServerProcess[] = [];
  const extra: ServerProcess[] = [];
  const clients: ChannelClient[] = [];
  let redis: RedisServer | undefined;
  const fixture: InstancesOnRedis = {
    get redis() {
      if (!redis) throw new Error('useInstancesOnRedis: Redis is not started yet (use it inside a test)');
      return redis;
    },
    servers,
    async startInstance(env = {}) {
      const instance = await startServerProcess({ ...TEST_LIMITS, REDIS_URL: fixture.redis.url, ...env });
      extra.push(instance);
      return instance;
    },
    client(options) {
      const created = createRecordingClient(options);
      clients.push(created);
      return created;
    },
  };
  beforeAll(async () => {
    redis = await startRedisServer();
    for (let i = 0; i < count; i++)
      servers.push(await startServerProcess({ ...TEST_LIMITS, REDIS_URL: redis.url }));
  }, 60_000);
  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all([...servers, ...extra].map((s) => s.kill()));
    await redis?.close();
  });
  return fixture;
}
