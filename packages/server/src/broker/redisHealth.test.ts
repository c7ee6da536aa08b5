import fc from 'fast-check';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { type RedisServer, startRedisServer } from '../__tests__/redisServer.ts';
import { createRedisBroker, type RedisBroker } from './redis.ts';
import { describeRedisError, redisAddress } from './redisErrorReason.ts';

interface Line {
  level: number;
  msg: string;
  reason?: string;
}

/** A pino logger whose records a test can read. */
function capturingLogger() {
  const lines: Line[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines, warnings: () => lines.filter((line) => line.level >= 40) };
}

const opened: RedisBroker[] = [];
const servers: RedisServer[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((broker) => broker.close()));
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** Reconnects every ~50 ms, so a test sees many failed attempts in a second. */
function open(url: string, logger: pino.Logger) {
  const broker = createRedisBroker({ url, logger, commandTimeoutMs: 500, maxReconnectDelayMs: 50 });
  opened.push(broker);
  return broker;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Redis broker status reason and logging', () => {
  it('says which Redis it cannot reach, in the status reason and once in the log, however often it retries', async () => {
    const nowhere = await startRedisServer();
    const { port } = nowhere;
    await nowhere.close();
    const logs = capturingLogger();
    const broker = open(`redis://127.0.0.1:${port}`, logs.logger);
    expect(broker.statusReason).toBe(`connecting to redis 127.0.0.1:${port}`);
    await expect(broker.ready(300)).rejects.toThrow(
      `Redis not ready within 300 ms (redis 127.0.0.1:${port}: connect ECONNREFUSED)`,
    );
    // About 20 reconnect attempts at 50 ms.
    await sleep(1000);
    expect(broker.status).toBe('unavailable');
    expect(broker.statusReason).toBe(`redis 127.0.0.1:${port}: connect ECONNREFUSED`);
    expect(logs.warnings()).toEqual([
      expect.objectContaining({
        msg: 'redis broker unavailable',
        reason: `redis 127.0.0.1:${port}: connect ECONNREFUSED`,
      }),
    ]);
    await broker.close();
    expect(broker.statusReason).toBe('broker closed');
  });

  it('says a Cluster reached no node, naming it, once in the log', async () => {
    const nowhere = await startRedisServer();
    const { port } = nowhere;
    await nowhere.close();
    const logs = capturingLogger();
    const broker = createRedisBroker({
      url: [`redis://127.0.0.1:${port}`],
      cluster: true,
      logger: logs.logger,
      commandTimeoutMs: 500,
      maxReconnectDelayMs: 50,
    });
    opened.push(broker);
    await expect.poll(() => broker.status, { timeout: 3000, interval: 20 }).toBe('unavailable');
    await sleep(1000);
    // ioredis's cluster nodes report a refused connection only as "Connection is closed.".
    const reason = `redis cluster: no node answered, last: redis 127.0.0.1:${port}: Connection is closed.`;
    expect(broker.statusReason).toBe(reason);
    expect(logs.warnings().map((line) => line.reason)).toEqual([reason]);
  });

  it('reports a killed Redis once, then recovers with no reason left', async () => {
    const redis = await startRedisServer();
    servers.push(redis);
    const logs = capturingLogger();
    const broker = open(redis.url, logs.logger);
    await broker.ready(5000);
    expect(broker.statusReason).toBeUndefined();

    await redis.kill();
    await expect.poll(() => broker.status, { timeout: 3000, interval: 20 }).toBe('unavailable');
    await sleep(1000);
    expect(broker.statusReason).toMatch(new RegExp(`^redis 127\\.0\\.0\\.1:${redis.port}: `));
    const warnings = logs.warnings();
    expect(warnings[0]).toMatchObject({ msg: 'redis broker unavailable' });
    // The first reason may be the dropped connection; the refused reconnects follow, each reason once.
    const reasons = warnings.map((line) => line.reason);
    expect(new Set(reasons).size).toBe(reasons.length);
    expect(reasons).toContain(`redis 127.0.0.1:${redis.port}: connect ECONNREFUSED`);
    expect(warnings.length).toBeLessThanOrEqual(3);

    await redis.restart();
    await broker.ready(5000);
    expect(broker.statusReason).toBeUndefined();
    expect(logs.lines.filter((line) => line.msg === 'redis broker recovered')).toHaveLength(1);
  }, 20_000);
});

describe('describeRedisError', () => {
  it('names the server and never shows the password of the configured URL', () => {
    fc.assert(
      fc.property(
        fc.domain(),
        fc.integer({ min: 1, max: 65535 }),
        fc.string({ minLength: 8, maxLength: 20 }).map((s) => `pw${s.replace(/[^a-zA-Z0-9]/g, 'x')}`),
        fc.string({ maxLength: 400 }),
        (host, port, password, message) => {
          const address = redisAddress(`redis://user:${password}@${host}:${port}/0`);
          expect(address).toBe(`${host}:${port}`);
          const reason = describeRedisError(new Error(message), address);
          expect(reason.startsWith(`redis ${host}:${port}: `)).toBe(true);
          expect(reason.length).toBeLessThanOrEqual(200);
          expect(reason.replace(message, '')).not.toContain(password);
        },
      ),
      { seed: 13, numRuns: 200 },
    );
  });

  it('reports a Cluster that found no node through the node error behind it', () => {
    const nodeError = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:7000'), {
      code: 'ECONNREFUSED',
      syscall: 'connect',
      address: '10.0.0.1',
      port: 7000,
    });
    const error = Object.assign(new Error('Failed to refresh slots cache.'), { lastNodeError: nodeError });
    expect(describeRedisError(error, redisAddress(['redis://a:7000', 'redis://b:7001']))).toBe(
      'redis cluster: no node answered, last: redis 10.0.0.1:7000: connect ECONNREFUSED',
    );
    expect(redisAddress(['redis://a:7000', 'redis://b:7001'])).toBe('a:7000 (+1 more seeds)');
  });
});
