import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createCollabService, createMemoryDocStore, createRedisDocStore } from '@switchboard/collab/server';
import { demoChannels } from '@switchboard/protocol/demo';
import {
  type Broker,
  createSwitchboardServer,
  createTokenVerifier,
  type ServerOptions,
  type SwitchboardServer,
  serverDefaults,
} from '@switchboard/server';
import pino, { type Logger } from 'pino';
import { type AppRouter, createAppRouter } from './appRouter.ts';
import { type ClusterStats, startClusterStats } from './clusterStats.ts';
import type { DemoConfig } from './config.ts';
import { createHttpRoutes } from './httpRoutes.ts';

export type { AppRouter } from './appRouter.ts';
export type { DemoConfig } from './config.ts';
export { readConfig } from './config.ts';

export interface DemoServer {
  server: SwitchboardServer;
  port: number;
  url: string;
  close(): Promise<void>;
}

const DEFAULT_APPS_DIR = fileURLToPath(new URL('../../', import.meta.url));

async function createBroker(
  config: DemoConfig,
  logger: Logger,
  instanceId: string,
): Promise<Broker | undefined> {
  if (!config.redisUrl) return undefined;
  // Loaded only when asked for, so in-memory users never load ioredis.
  const { createRedisBroker } = await import('@switchboard/server/redis');
  return createRedisBroker({
    url: config.redisUrl,
    cluster: config.redisCluster,
    logger,
    instanceId,
    presenceTtlMs: config.presenceTtlMs,
    presenceSweepIntervalMs:
      config.presenceTtlMs === undefined ? undefined : Math.max(100, config.presenceTtlMs / 4),
  });
}

/**
 * Starts the demo host: the three apps, `/ws`, health, metrics and dev login. `overrides` lets tests and
 * benchmarks tune server options (short heartbeats, small limits) without new env vars.
 */
export async function startDemoServer(
  config: DemoConfig,
  overrides: Partial<ServerOptions> = {},
): Promise<DemoServer> {
  const logger =
    overrides.logger ??
    pino({ level: config.logLevel, redact: ['req.headers.authorization', 'req.headers.cookie'] });
  if (config.authSecretGenerated) {
    logger.warn('AUTH_SECRET is not set: using a random secret, so tokens die with this process');
  }
  if (config.production && config.devLogin) {
    logger.warn('DEV_LOGIN is on in production: anyone can sign in under any name');
  }
  const instanceId = overrides.instanceId ?? randomUUID().slice(0, 8);
  const broker = overrides.broker ?? (await createBroker(config, logger, instanceId));
  const jwt = { secret: config.authSecret, clockToleranceSec: serverDefaults.clockToleranceSec };
  let clusterStats: ClusterStats | undefined;
  let server: SwitchboardServer | undefined;
  // Documents live in Redis when instances share one (not yet on Redis Cluster: see README).
  const docStore =
    config.redisUrl && !config.redisCluster
      ? createRedisDocStore({ redis: config.redisUrl })
      : createMemoryDocStore();
  const collab = createCollabService({ store: docStore });
  const router: AppRouter = createAppRouter({
    collab,
    clusterStats: () => {
      if (!clusterStats) throw new Error('server is starting');
      return clusterStats;
    },
  });
  server = createSwitchboardServer({
    router,
    channels: demoChannels,
    jwt,
    broker,
    logger,
    instanceId,
    allowedOrigins: config.allowedOrigins,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    heartbeatTimeoutMs: config.heartbeatTimeoutMs,
    maxConnections: config.maxConnections,
    maxConnectionsPerUser: config.maxConnectionsPerUser,
    rateLimitPerSecond: config.rateLimitPerSecond,
    rateLimitBurst: config.rateLimitBurst,
    onHttpRequest: createHttpRoutes({
      server: () => server!,
      verifyToken: createTokenVerifier(jwt),
      authSecret: config.authSecret,
      appsDir: config.appsDir ?? DEFAULT_APPS_DIR,
      secureCookies: false,
      devLogin: config.devLogin,
      trustProxyHops: config.trustProxyHops,
    }),
    ...overrides,
  });
  clusterStats = await startClusterStats(server);
  const { port } = await server.listen(config.port, config.host);
  const running = server;
  return {
    server: running,
    port,
    url: `http://${config.host}:${port}`,
    async close() {
      await running.close();
      await clusterStats?.stop();
      await collab.close();
      await docStore.close();
      if (!overrides.broker) await broker?.close();
    },
  };
}
