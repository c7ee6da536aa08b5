import { randomBytes } from 'node:crypto';

/** Everything the demo server reads from the environment: here and nowhere else. */
export interface DemoConfig {
  /** `PORT`: HTTP and WebSocket port. @default 3000 */
  port: number;
  /** `HOST`: interface to bind. @default '127.0.0.1' */
  host: string;
  /** `AUTH_SECRET`: HS256 key for dev-login tokens. @default random per start (tokens die with the process) */
  authSecret: string;
  /** True when AUTH_SECRET was not set (the server logs a warning). */
  authSecretGenerated: boolean;
  /** `ALLOWED_ORIGINS`: comma-separated origins allowed to open a WebSocket. @default the server's own origin */
  allowedOrigins: string[];
  /** `LOG_LEVEL`: pino level. @default 'info' */
  logLevel: string;
  /** `REDIS_URL`: switches to the Redis broker (e.g. redis://127.0.0.1:6379). @default unset: in-memory broker */
  redisUrl: string | undefined;
  /** `REDIS_CLUSTER`: 'true' when REDIS_URL points at a Redis Cluster node. @default false */
  redisCluster: boolean;
  /** `HEARTBEAT_INTERVAL_MS`. @default 30000 */
  heartbeatIntervalMs: number | undefined;
  /** `HEARTBEAT_TIMEOUT_MS`. @default 10000 */
  heartbeatTimeoutMs: number | undefined;
  /** `MAX_CONNECTIONS`. @default 10000 */
  maxConnections: number | undefined;
  /** `RATE_LIMIT_PER_SECOND`: sustained inbound messages per connection. @default 50 */
  rateLimitPerSecond: number | undefined;
  /** `RATE_LIMIT_BURST`: burst of the per-connection token bucket. @default 100 */
  rateLimitBurst: number | undefined;
  /** `PRESENCE_TTL_MS` (Redis broker): members of an instance that stopped refreshing expire after this. @default 30000 */
  presenceTtlMs: number | undefined;
  /** `APPS_DIR`: where the built apps live (`<dir>/<app>/dist`). @default the repo's `apps/` folder */
  appsDir: string | undefined;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): DemoConfig {
  const number = (name: string) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0)
      throw new Error(`${name} must be a non-negative number, got "${raw}"`);
    return value;
  };
  return {
    port: number('PORT') ?? 3000,
    host: env.HOST || '127.0.0.1',
    authSecret: env.AUTH_SECRET || randomBytes(32).toString('hex'),
    authSecretGenerated: !env.AUTH_SECRET,
    allowedOrigins: (env.ALLOWED_ORIGINS ?? '')
      .split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
    logLevel: env.LOG_LEVEL || 'info',
    redisUrl: env.REDIS_URL || undefined,
    redisCluster: env.REDIS_CLUSTER === 'true',
    heartbeatIntervalMs: number('HEARTBEAT_INTERVAL_MS'),
    heartbeatTimeoutMs: number('HEARTBEAT_TIMEOUT_MS'),
    maxConnections: number('MAX_CONNECTIONS'),
    rateLimitPerSecond: number('RATE_LIMIT_PER_SECOND'),
    rateLimitBurst: number('RATE_LIMIT_BURST'),
    presenceTtlMs: number('PRESENCE_TTL_MS'),
    appsDir: env.APPS_DIR || undefined,
  };
}
