import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Lua scripts of the Redis doc store. Each runs atomically on the document's keys, which share the hash tag
 * `{docId}` so they live in one cluster slot:
 * - `collab:{docId}:head`   hash { version, text }: the current document
 * - `collab:{docId}:log`    list of the last `retainOps` committed ops (JSON), ending at the head version
 * - `collab:{docId}:opkeys` sorted set: `opKeyOf(userId, opId)` scored by its version, for the ops in the log
 * A document nobody committed to has none of them: reads create nothing.
 */

/**
 * Compare-and-append. KEYS: head, log, opkeys. ARGV: expected head version, op key, op JSON, pub/sub channel,
 * text after the op, ops to retain, TTL in ms (0: none). Publishing inside the script makes the feed's order
 * the commit order.
 */
const COMMIT = `
local existing = redis.call('ZSCORE', KEYS[3], ARGV[2])
if existing then return {'duplicate', tonumber(existing)} end
local head = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if head ~= tonumber(ARGV[1]) then return {'conflict', head} end
local version = head + 1
local retain = tonumber(ARGV[6])
redis.call('HSET', KEYS[1], 'version', version, 'text', ARGV[5])
redis.call('RPUSH', KEYS[2], ARGV[3])
redis.call('ZADD', KEYS[3], version, ARGV[2])
redis.call('LTRIM', KEYS[2], -retain, -1)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', version - retain)
local ttl = tonumber(ARGV[7])
if ttl > 0 then
  for _, key in ipairs(KEYS) do redis.call('PEXPIRE', key, ttl) end
end
redis.call('PUBLISH', ARGV[4], ARGV[3])
return {'committed', version}
`;

/** Head and the retained ops after a version ('' for none), read together. KEYS: head, log. */
const LOAD = `
local head = redis.call('HMGET', KEYS[1], 'version', 'text')
local version = tonumber(head[1] or '0')
local base = version - redis.call('LLEN', KEYS[2])
local ops = {}
if ARGV[1] ~= '' then ops = redis.call('LRANGE', KEYS[2], math.max(tonumber(ARGV[1]) - base, 0), -1) end
return {version, head[2] or '', base, ops}
`;

/** Ops after a version, with the log's bounds. KEYS: head, log. ARGV: after version. */
const READ_OPS = `
local version = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
local base = version - redis.call('LLEN', KEYS[2])
return {base, version, redis.call('LRANGE', KEYS[2], math.max(tonumber(ARGV[1]) - base, 0), -1)}
`;

interface LuaScript {
  source: string;
  sha: string;
}

function script(source: string): LuaScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

export const scripts = { commit: script(COMMIT), load: script(LOAD), readOps: script(READ_OPS) };

/** EVALSHA, falling back to EVAL once when the server's script cache does not have it (restart, FLUSH). */
export async function runScript(
  redis: Redis,
  { source, sha }: LuaScript,
  keys: string[],
  args: (string | number)[],
): Promise<unknown> {
  try {
    return await redis.evalsha(sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return redis.eval(source, keys.length, ...keys, ...args);
  }
}
