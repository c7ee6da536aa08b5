import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Lua scripts of the Redis doc store. Each runs atomically on the document's three keys, which share the
 * hash tag `{docId}` so they live in one cluster slot:
 * - `collab:{docId}:ops`      list of committed ops (JSON), versions `base + 1 ..`
 * - `collab:{docId}:snapshot` hash { version, text, base }
 * - `collab:{docId}:opids`    hash opId → version, for the ops still in the list
 */

/**
 * Compare-and-append. KEYS: ops, snapshot, opids. ARGV: expected head version, opId, op JSON, pub/sub channel,
 * '1' when the new version is a snapshot point, text after the op (only then), ops to retain.
 * Publishing inside the script makes the feed's order the commit order.
 */
const COMMIT = `
local existing = redis.call('HGET', KEYS[3], ARGV[2])
if existing then return {'duplicate', tonumber(existing)} end
local base = tonumber(redis.call('HGET', KEYS[2], 'base') or '0')
local head = base + redis.call('LLEN', KEYS[1])
if head ~= tonumber(ARGV[1]) then return {'conflict', head} end
local version = head + 1
redis.call('RPUSH', KEYS[1], ARGV[3])
redis.call('HSET', KEYS[3], ARGV[2], version)
if ARGV[5] == '1' then
  redis.call('HSET', KEYS[2], 'version', version, 'text', ARGV[6])
  local drop = version - tonumber(ARGV[7]) - base
  if drop > 0 then
    for _, entry in ipairs(redis.call('LRANGE', KEYS[1], 0, drop - 1)) do
      redis.call('HDEL', KEYS[3], cjson.decode(entry)['opId'])
    end
    redis.call('LTRIM', KEYS[1], drop, -1)
    redis.call('HSET', KEYS[2], 'base', base + drop)
  end
end
redis.call('PUBLISH', ARGV[4], ARGV[3])
return {'committed', version}
`;

/** Snapshot and the whole retained log, read together. KEYS: ops, snapshot. */
const LOAD = `
local snapshot = redis.call('HMGET', KEYS[2], 'version', 'text', 'base')
return {snapshot[1] or '0', snapshot[2] or '', snapshot[3] or '0', redis.call('LRANGE', KEYS[1], 0, -1)}
`;

/** Ops after a version, with the log's bounds. KEYS: ops, snapshot. ARGV: after version. */
const READ_OPS = `
local base = tonumber(redis.call('HGET', KEYS[2], 'base') or '0')
local length = redis.call('LLEN', KEYS[1])
local from = math.max(tonumber(ARGV[1]) - base, 0)
return {base, base + length, redis.call('LRANGE', KEYS[1], from, -1)}
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
