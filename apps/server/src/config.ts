import { fileURLToPath } from 'node:url';
import { loadOrCreateLocalSecret } from './localSecret.ts';

/** Everything the demo server reads from the environment: here and nowhere else. */
export interface DemoConfig {
  /** `PORT`: HTTP and WebSocket port. @default 3000 */
  port: number;
  /** `HOST`: interface to bind. @default '127.0.0.1' */
  host: string;
  /**
   * `AUTH_SECRET`: HS256 key for tokens, at least 32 bytes (RFC 7518 §3.2).
   * @default read from `apps/server/.auth-secret` (git-ignored), created with 32 random bytes on first start,
   * so people stay signed in across restarts
   */
  authSecret: string;
  /**
   * Where the secret came from when AUTH_SECRET was not set (the server logs it): `created` on the first
   * start, `file` after, `random` when the file could not be written (tokens then die with the process).
   */
  authSecretSource: 'env' | 'file' | 'created' | 'random';
  /** `AUTH_SECRET_FILE`: the local secret used when AUTH_SECRET is not set. @default apps/server/.auth-secret */
  authSecretFile: string;
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

/** Smallest AUTH_SECRET, in bytes: an HS256 key shorter than the hash output is refused (RFC 7518 §3.2). */
const MIN_AUTH_SECRET_BYTES = 32;

/** The demo's own secret when AUTH_SECRET is unset: beside the package, listed in the root .gitignore. */
export const DEFAULT_AUTH_SECRET_FILE = fileURLToPath(new URL('../.auth-secret', import.meta.url));

/** A configuration mistake: `main.ts` prints its message on one line, without a stack, and exits 1. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Reads the environment once. Without AUTH_SECRET the secret is read from AUTH_SECRET_FILE, or created there
 * on first use. Throws `ConfigError` naming the variable and the fix for a value it refuses.
 */
export function readConfig(env: NodeJS.ProcessEnv = process.env): DemoConfig {
  const number = (name: string) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0)
      throw new ConfigError(`${name} must be a non-negative number, got "${raw}"`);
    return value;
  };
  const flag = (name: string): boolean | undefined => {
    const raw = env[name]?.trim().toLowerCase();
    if (raw === undefined || raw === '') return undefined;
    if (raw === '1' || raw === 'true') return true;
    if (raw === '0' || raw === 'false') return false;
    throw new ConfigError(`${name} must be 1, true, 0 or false, got "${env[name]}"`);
  };
  const trustProxyHops = number('TRUST_PROXY') ?? 0;
  if (!Number.isInteger(trustProxyHops)) {
    throw new ConfigError(
      `TRUST_PROXY must be the number of proxies in front of the server (e.g. 1), got "${env.TRUST_PROXY}"`,
    );
  }
  const production = env.NODE_ENV === 'production';
  const authSecretFile = env.AUTH_SECRET_FILE || DEFAULT_AUTH_SECRET_FILE;
  const { secret: authSecret, source: authSecretSource } = env.AUTH_SECRET
    ? { secret: env.AUTH_SECRET, source: 'env' as const }
    : loadOrCreateLocalSecret(authSecretFile);
  const secretBytes = Buffer.byteLength(authSecret);
  if (secretBytes < MIN_AUTH_SECRET_BYTES) {
    // Checked here too (the server refuses it as well) to name the variable rather than `jwt.secret`.
    throw new ConfigError(
      authSecretSource === 'env'
        ? `AUTH_SECRET is ${secretBytes} bytes, at least ${MIN_AUTH_SECRET_BYTES} needed: set AUTH_SECRET=$(openssl rand -hex 32)`
        : `${authSecretFile} holds ${secretBytes} bytes, at least ${MIN_AUTH_SECRET_BYTES} needed: delete it to get a new secret, or set AUTH_SECRET`,
    );
  }
  return {
    port: number('PORT') ?? 3000,
    host: env.HOST || '127.0.0.1',
    authSecret,
    authSecretSource,
    authSecretFile,
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
