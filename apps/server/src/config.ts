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
  /** `MAX_CONNECTIONS_PER_USER`: further upgrades of that user get HTTP 429. @default 50 */
  maxConnectionsPerUser: number | undefined;
  /** `NODE_ENV` is 'production'. */
  production: boolean;
  /**
   * `DEV_LOGIN`: whether `POST /auth/dev-login` hands a token to anyone under any name. '1'/'true' turns it
   * on, '0'/'false' off. @default on, except with NODE_ENV=production (then 403 unless DEV_LOGIN=1)
   */
  devLogin: boolean;
  /**
   * `TRUST_PROXY`: how many proxies in front of the server append the client's address to X-Forwarded-For
   * (1 behind the shipped nginx). The dev-login rate limit is keyed by that address; with 0 it uses the
   * socket peer and ignores the header, which a client could set to anything. @default 0
   */
  trustProxyHops: number;
  /** `RATE_LIMIT_PER_SECOND`: sustained inbound messages per connection. @default 50 */
  rateLimitPerSecond: number | undefined;
  /** `RATE_LIMIT_BURST`: burst of the per-connection token bucket (and most messages per frame). @default 300 */
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
  const flag = (name: string): boolean | undefined => {
    const raw = env[name]?.trim().toLowerCase();
    if (raw === undefined || raw === '') return undefined;
    if (raw === '1' || raw === 'true') return true;
    if (raw === '0' || raw === 'false') return false;
    throw new Error(`${name} must be 1, true, 0 or false, got "${env[name]}"`);
  };
  const trustProxyHops = number('TRUST_PROXY') ?? 0;
  if (!Number.isInteger(trustProxyHops)) {
    throw new Error(
      `TRUST_PROXY must be the number of proxies in front of the server (e.g. 1), got "${env.TRUST_PROXY}"`,
    );
  }
  const production = env.NODE_ENV === 'production';
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
    maxConnectionsPerUser: number('MAX_CONNECTIONS_PER_USER'),
    production,
    devLogin: flag('DEV_LOGIN') ?? !production,
    trustProxyHops,
    rateLimitPerSecond: number('RATE_LIMIT_PER_SECOND'),
    rateLimitBurst: number('RATE_LIMIT_BURST'),
    presenceTtlMs: number('PRESENCE_TTL_MS'),
    appsDir: env.APPS_DIR || undefined,
  };
}
