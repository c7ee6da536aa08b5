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
  logAuthSecretSource(config, logger);
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
  const running = server;
  const statsStarted = startClusterStatsWhenBrokerAllows(running, (stats) => {
    clusterStats = stats;
  });
  await statsStarted.firstAttempt;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await running.close();
      statsStarted.cancel();
      await clusterStats?.stop();
      await collab.close();
      await docStore.close();
      if (!overrides.broker) await broker?.close();
    })());
  let port: number;
  try {
    ({ port } = await server.listen(config.port, config.host));
  } catch (error) {
    // Release the broker and timers so a caller that handles the error (a test) is not left with them.
    await close().catch(() => {});
    throw error;
  }
  return { server: running, port, url: `http://${urlHost(config.host)}:${port}`, close };
}

/** The host part of a URL a browser on this machine can open: a wildcard bind is reached via 127.0.0.1. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

function logAuthSecretSource(config: DemoConfig, logger: Logger) {
  const file = config.authSecretFile;
  switch (config.authSecretSource) {
    case 'created':
      logger.info(
        { file },
        `AUTH_SECRET is not set: created a secret in ${file} (git-ignored), reused on restart`,
      );
      break;
    case 'file':
      logger.info({ file }, `AUTH_SECRET is not set: using the secret in ${file}`);
      break;
    case 'random':
      logger.warn(
        { file },
        `AUTH_SECRET is not set and ${file} cannot be written: using a random secret, so tokens die with this process`,
      );
      break;
  }
  if (config.production && config.authSecretSource !== 'env') {
    logger.warn('AUTH_SECRET is not set in production: give every instance the same AUTH_SECRET');
  }
}

/** Delay between attempts to start the cluster statistics while the broker cannot subscribe, in ms. */
const CLUSTER_STATS_RETRY_MS = 1000;

/**
 * Starts the dashboard's cluster statistics, retrying while the broker cannot subscribe yet (Redis down at
 * start): the server still starts, and `/readyz` and the broker's log say why it is not ready. The first
 * attempt settles within the broker's command timeout.
 */
function startClusterStatsWhenBrokerAllows(
  server: SwitchboardServer,
  onStarted: (stats: ClusterStats) => void,
): { firstAttempt: Promise<void>; cancel(): void } {
  let cancelled = false;
  let timer: NodeJS.Timeout | undefined;
  const attempt = () =>
    startClusterStats(server).then(
      (stats) => {
        if (cancelled) void stats.stop();
        else onStarted(stats);
      },
      () => {
        if (!cancelled) timer = setTimeout(attempt, CLUSTER_STATS_RETRY_MS);
      },
    );
  return {
    // Awaited before listening, so with a working broker the dashboard works from the first request.
    firstAttempt: attempt(),
    cancel() {
      cancelled = true;
      clearTimeout(timer);
    },
  };
}
