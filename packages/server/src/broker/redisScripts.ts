import type { Cluster, Redis } from 'ioredis';
import type { ChannelKeys } from './redisKeys.ts';

/**
 * The broker's Lua scripts. Each touches the keys of one channel only (one hash tag, so one Cluster
 * shard) and runs atomically, which is what makes the stream order the delivery order on every instance.
 * ioredis sends them with EVALSHA and falls back to EVAL after a Redis restart emptied the script cache.
 */

/** Redis time in ms, so expiry and deadlines do not depend on the app servers' clocks. */
const NOW_MS = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/**
 * The stream's epoch (KEYS[2]), created from `candidate` when missing; a stream left without its epoch
 * (KEYS[1]) is dropped then, so ids of two epochs never mix.
 */
const EPOCH = `
local function epoch_of(candidate)
  local epoch = redis.call('GET', KEYS[2])
  if not epoch then
    epoch = candidate
    redis.call('SET', KEYS[2], epoch)
    redis.call('DEL', KEYS[1])
  end
  return epoch
end
`;

/**
 * A user's live connections in a presence hash and the value of the one changed last
 * (whose name and meta the member shows).
 */
const MEMBER = `
local function member(key, user_id, now)
  local count, latest, latest_at = 0, false, -1
  for _, value in ipairs(redis.call('HVALS', key)) do
    local ok, entry = pcall(cjson.decode, value)
    if ok and type(entry) == 'table' and entry.userId == user_id and (tonumber(entry.expiresAt) or 0) > now then
      count = count + 1
      local at = tonumber(entry.updatedAt) or 0
      if at > latest_at then latest, latest_at = value, at end
    end
  end
  return { count, latest }
end
`;

/**
 * KEYS: stream, epoch, idempotency (hash), idempotency order (list). ARGV: pubsub channel, PUBLISH|SPUBLISH,
 * type, json, stored (1|0), epoch candidate, maxlen, max age ms, deadline (Redis ms), idempotency key
 * ('' for none), fingerprint, key ttl ms. → false (ephemeral), or { epoch, id, '' | 'duplicate' | 'conflict' }.
 *
 * The deadline makes "rejected" mean "not stored": a call that reaches Redis after the client's command
 * timeout (Redis was stalled, e.g. SIGSTOP) is refused instead of appearing later behind the caller's back.
 * Each entry records the previous entry's id (`p`), so a receiver can tell its immediate successor from a
 * gap and `history()` can tell "trimmed" from "never issued". The pub/sub message is
 * `<epoch>\\n<id>\\n<prev>\\n<type>\\n<json>`; ephemeral events have the first three empty.
 *
 * Idempotency: the record `<epoch>\\n<id>\\n<fingerprint>` of a key is checked and written in the same
 * script as the XADD, so two instances racing with one key store one event. A record counts while its
 * event may still be in history: same epoch, younger than the max age, and among the last `maxlen` keyed
 * publishes (the order list `<id>\\n<key>` bounds the hash). Every key of the channel expires `key ttl`
 * after its last publish.
 */
const PUBLISH = `${NOW_MS}${EPOCH}
local now = now_ms()
if now > tonumber(ARGV[9]) then
  return redis.error_reply('SBDEADLINE publish reached Redis after its deadline')
end
if ARGV[5] == '0' then
  redis.call(ARGV[2], ARGV[1], '\\n\\n\\n' .. ARGV[3] .. '\\n' .. ARGV[4])
  return false
end
local max_age = tonumber(ARGV[8])
local max_len = tonumber(ARGV[7])
local key = ARGV[10]
if key ~= '' then
  local record = redis.call('HGET', KEYS[3], key)
  if record then
    local r_epoch, r_id, r_fingerprint = string.match(record, '^([^\\n]*)\\n([^\\n]*)\\n(.*)$')
    local r_ms = tonumber(string.match(r_id or '', '^%d+'))
    if r_epoch == redis.call('GET', KEYS[2]) and r_ms and r_ms > now - max_age then
      if r_fingerprint == ARGV[11] then return { r_epoch, r_id, 'duplicate' } end
      return { r_epoch, r_id, 'conflict' }
    end
  end
end
local epoch = epoch_of(ARGV[6])
local prev = '0-0'
local head = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if head[1] then prev = head[1][1] end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', max_len, '*', 't', ARGV[3], 'd', ARGV[4], 'p', prev)
redis.call('XTRIM', KEYS[1], 'MINID', '~', now - max_age)
if key ~= '' then
  redis.call('HSET', KEYS[3], key, epoch .. '\\n' .. id .. '\\n' .. ARGV[11])
  redis.call('RPUSH', KEYS[4], id .. '\\n' .. key)
  -- One push per publish, so a few pops keep the list at max_len (and converge after max_len shrank).
  for _ = 1, 8 do
    if redis.call('LLEN', KEYS[4]) <= max_len then break end
    local o_id, o_key = string.match(redis.call('LPOP', KEYS[4]), '^([^\\n]*)\\n(.*)$')
    local current = o_key and redis.call('HGET', KEYS[3], o_key)
    -- A key reused after its record lapsed has a newer record: only the record of this entry goes.
    if current and string.match(current, '^[^\\n]*\\n([^\\n]*)\\n') == o_id then
      redis.call('HDEL', KEYS[3], o_key)
    end
  end
end
for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], ARGV[12]) end
redis.call(ARGV[2], ARGV[1], epoch .. '\\n' .. id .. '\\n' .. prev .. '\\n' .. ARGV[3] .. '\\n' .. ARGV[4])
return { epoch, id, '' }
`;

/** KEYS: stream, epoch. ARGV: after (exclusive stream id), count. → {} without epoch, else { epoch, entries }. */
const RANGE = `
local epoch = redis.call('GET', KEYS[2])
if not epoch then return {} end
return { epoch, redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+', 'COUNT', ARGV[2]) }
`;

/**
 * KEYS: stream, epoch. ARGV: key ttl ms. → { epoch or '', last entry id or '' }. Called for channels this
 * instance subscribes (activation, positioning), it keeps their epoch and stream alive: a channel in use
 * keeps its position however long it stays quiet.
 */
const HEAD = `
local epoch = redis.call('GET', KEYS[2]) or ''
if epoch ~= '' then
  redis.call('PEXPIRE', KEYS[2], ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
local head = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
return { epoch, head[1] and head[1][1] or '' }
`;

/**
 * KEYS: stream, epoch. ARGV: epoch candidate, key ttl ms. → { epoch, newest id or '0-0' }. Creates the epoch
 * of a channel that has none (as a publish would), so the position survives until the first event is
 * stored; with a TTL, so a channel only looked at goes away.
 */
const POSITION = `${EPOCH}
local epoch = epoch_of(ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local head = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
return { epoch, head[1] and head[1][1] or '0-0' }
`;

/**
 * KEYS: stream, epoch. ARGV: 'after'|'last', after id (for 'after'), count.
 * → {} without epoch, else { epoch, now ms, first id or '', last id or '', entries }.
 */
const HISTORY = `${NOW_MS}
local epoch = redis.call('GET', KEYS[2])
if not epoch then return {} end
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local entries
if ARGV[1] == 'after' then
  entries = redis.call('XRANGE', KEYS[1], '(' .. ARGV[2], '+', 'COUNT', ARGV[3])
else
  entries = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', ARGV[3])
end
return { epoch, tostring(now_ms()), first[1] and first[1][1] or '', last[1] and last[1][1] or '', entries }
`;

/** KEYS: presence. ARGV: connectionId, entry JSON, userId, key ttl ms. → { connections, latest entry JSON }. */
const PRESENCE_UPSERT = `${NOW_MS}${MEMBER}
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return member(KEYS[1], ARGV[3], now_ms())
`;

/** KEYS: presence. ARGV: connectionId. → nil when absent, else { removed entry JSON, user's remaining connections }. */
const PRESENCE_LEAVE = `${NOW_MS}${MEMBER}
local value = redis.call('HGET', KEYS[1], ARGV[1])
if not value then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
local ok, entry = pcall(cjson.decode, value)
if not ok or type(entry) ~= 'table' then return false end
return { value, member(KEYS[1], entry.userId, now_ms())[1] }
`;

/**
 * KEYS: presence. ARGV: instanceId of the caller (its own entries are alive: it rewrites them itself).
 * Removes expired entries; → per user who lost connections, { entry JSON, live connections left }: the
 * last-changed removed entry when none is left (a leave), else the latest live one (an update: the
 * member's other tabs, on other instances, are still there).
 */
const PRESENCE_SWEEP = `${NOW_MS}${MEMBER}
local now = now_ms()
local all = redis.call('HGETALL', KEYS[1])
local removed = {}
for i = 1, #all, 2 do
  local ok, entry = pcall(cjson.decode, all[i + 1])
  if not ok or type(entry) ~= 'table' or type(entry.userId) ~= 'string' then
    redis.call('HDEL', KEYS[1], all[i])
  elseif (tonumber(entry.expiresAt) or 0) <= now and entry.instanceId ~= ARGV[1] then
    redis.call('HDEL', KEYS[1], all[i])
    local at = tonumber(entry.updatedAt) or 0
    local seen = removed[entry.userId]
    if not seen or at > seen.at then removed[entry.userId] = { at = at, value = all[i + 1] } end
  end
end
local changes = {}
for user_id, gone in pairs(removed) do
  local left = member(KEYS[1], user_id, now)
  if left[1] == 0 then table.insert(changes, { gone.value, 0 })
  else table.insert(changes, { left[2], left[1] }) end
end
return changes
`;

const scripts = {
  sbPublish: PUBLISH,
  sbRange: RANGE,
  sbHead: HEAD,
  sbPosition: POSITION,
  sbHistory: HISTORY,
  sbPresenceUpsert: PRESENCE_UPSERT,
  sbPresenceLeave: PRESENCE_LEAVE,
  sbPresenceSweep: PRESENCE_SWEEP,
};

/** A stream entry as XRANGE returns it: [id, [field, value, ...]]. */
export type RawStreamEntry = [id: string, fields: string[]];

export interface PublishArgs {
  pubsubCommand: 'PUBLISH' | 'SPUBLISH';
  type: string;
  json: string;
  stored: boolean;
  epochCandidate: string;
  maxLength: number;
  maxAgeMs: number;
  deadlineMs: number;
  /** Scoped idempotency key and request fingerprint, when the publish carries one. */
  idempotency: { key: string; fingerprint: string } | undefined;
  /** How long the channel's keys live after this publish. */
  keyTtlMs: number;
}

export type PublishReply = null | [epoch: string, id: string, outcome: '' | 'duplicate' | 'conflict'];

export type HistoryReply =
  | []
  | [epoch: string, nowMs: string, firstId: string, lastId: string, entries: RawStreamEntry[]];

/** Typed calls of the scripts on one client (single node or Cluster; a script routes by its first key). */
export interface BrokerScripts {
  publish(keys: ChannelKeys, args: PublishArgs): Promise<PublishReply>;
  range(
    keys: ChannelKeys,
    afterId: string,
    count: number,
  ): Promise<[] | [epoch: string, entries: RawStreamEntry[]]>;
  /** `keyTtlMs`: how long the channel's keys live from now. */
  head(keys: ChannelKeys, keyTtlMs: number): Promise<[epoch: string, lastId: string]>;
  position(keys: ChannelKeys, epochCandidate: string, keyTtlMs: number): Promise<[epoch: string, id: string]>;
  history(
    keys: ChannelKeys,
    query: { after: string } | { last: number },
    count: number,
  ): Promise<HistoryReply>;
  presenceUpsert(
    keys: ChannelKeys,
    connectionId: string,
    entryJson: string,
    userId: string,
    keyTtlMs: number,
  ): Promise<[connections: number, latest: string | null]>;
  presenceLeave(
    keys: ChannelKeys,
    connectionId: string,
  ): Promise<[removed: string, connections: number] | null>;
  presenceSweep(keys: ChannelKeys, instanceId: string): Promise<[entryJson: string, connections: number][]>;
}

type ScriptCall = (...args: (string | number)[]) => Promise<unknown>;

export function defineScripts(client: Redis | Cluster): BrokerScripts {
  for (const [name, lua] of Object.entries(scripts)) {
    const numberOfKeys = name === 'sbPublish' ? 4 : name.startsWith('sbPresence') ? 1 : 2;
    client.defineCommand(name, { numberOfKeys, lua });
  }
  const call = (name: keyof typeof scripts, ...args: (string | number)[]) =>
    (client as unknown as Record<string, ScriptCall>)[name]!(...args);
  return {
    publish: (keys, a) =>
      call(
        'sbPublish',
        keys.stream,
        keys.epoch,
        keys.idempotency,
        keys.idempotencyOrder,
        keys.pubsub,
        a.pubsubCommand,
        a.type,
        a.json,
        a.stored ? '1' : '0',
        a.epochCandidate,
        a.maxLength,
        a.maxAgeMs,
        Math.floor(a.deadlineMs),
        a.idempotency?.key ?? '',
        a.idempotency?.fingerprint ?? '',
        a.keyTtlMs,
      ) as Promise<PublishReply>,
    range: (keys, afterId, count) =>
      call('sbRange', keys.stream, keys.epoch, afterId, count) as Promise<[] | [string, RawStreamEntry[]]>,
    head: (keys, keyTtlMs) => call('sbHead', keys.stream, keys.epoch, keyTtlMs) as Promise<[string, string]>,
    position: (keys, epochCandidate, keyTtlMs) =>
      call('sbPosition', keys.stream, keys.epoch, epochCandidate, keyTtlMs) as Promise<[string, string]>,
    history: (keys, query, count) =>
      call(
        'sbHistory',
        keys.stream,
        keys.epoch,
        'after' in query ? 'after' : 'last',
        'after' in query ? query.after : '',
        count,
      ) as Promise<HistoryReply>,
    presenceUpsert: (keys, connectionId, entryJson, userId, keyTtlMs) =>
      call('sbPresenceUpsert', keys.presence, connectionId, entryJson, userId, keyTtlMs) as Promise<
        [number, string | null]
      >,
    presenceLeave: (keys, connectionId) =>
      call('sbPresenceLeave', keys.presence, connectionId) as Promise<[string, number] | null>,
    presenceSweep: (keys, instanceId) =>
      call('sbPresenceSweep', keys.presence, instanceId) as Promise<[string, number][]>,
  };
}
