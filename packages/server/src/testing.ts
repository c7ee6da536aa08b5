/**
 * `@switchboard/server/testing`: fixtures of Switchboard's own test suites, shared by its packages (not part
 * of the public API): real `redis-server` processes, per-test cleanup, a seeded PRNG.
 */
export { useCleanup } from './__tests__/lifecycle.ts';
export type { RedisCluster, RedisServer } from './__tests__/redisServer.ts';
export { startRedisCluster, startRedisServer } from './__tests__/redisServer.ts';
export { seededRandom } from './__tests__/seededRandom.ts';
