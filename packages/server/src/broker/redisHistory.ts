import type { BrokerEvent, HistoryQuery, HistoryResult } from './broker.ts';
import { formatEventId, parseEventId } from './eventId.ts';
import type { ChannelKeys } from './redisKeys.ts';
import type { BrokerScripts, RawStreamEntry } from './redisScripts.ts';

/** A stored event read back from a channel's stream. */
export interface StreamEntry {
  /** Stream id (`<ms>-<seq>`). */
  id: string;
  /** Stream id of the entry stored before it in this epoch, `0-0` for the first. */
  prev: string;
  type: string;
  json: string;
}

export function parseStreamEntry([id, fields]: RawStreamEntry): StreamEntry {
  const entry: StreamEntry = { id, prev: '', type: '', json: '' };
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const value = fields[i + 1]!;
    if (fields[i] === 't') entry.type = value;
    else if (fields[i] === 'd') entry.json = value;
    else if (fields[i] === 'p') entry.prev = value;
  }
  return entry;
}

export function toBrokerEvent(channel: string, epoch: string, entry: StreamEntry): BrokerEvent {
  return { channel, id: formatEventId(epoch, entry.id), type: entry.type, json: entry.json };
}

/** Orders two stream ids (`<ms>-<seq>`). */
export function compareStreamIds(a: string, b: string): number {
  const dashA = a.indexOf('-');
  const dashB = b.indexOf('-');
  return (
    Number(a.slice(0, dashA)) - Number(b.slice(0, dashB)) ||
    Number(a.slice(dashA + 1)) - Number(b.slice(dashB + 1))
  );
}

export interface HistoryLimits {
  historySize: number;
  historyMaxAgeMs: number;
}

/**
 * Reads history with the same answers as the memory broker. Redis trims approximately (`MAXLEN ~`,
 * `MINID ~`), so the limits are applied here exactly: more than `historySize` events after `after`, or an
 * event after it older than `historyMaxAgeMs`, means the client missed evicted events. Physical trimming
 * is recognised through each entry's `prev`: when the first entry after `after` does not follow it, the
 * events between were trimmed (or `after` was never issued, when it lies inside the retained range).
 */
export async function readHistory(
  scripts: BrokerScripts,
  keys: ChannelKeys,
  channel: string,
  query: HistoryQuery,
  limits: HistoryLimits,
): Promise<HistoryResult> {
  const { historySize, historyMaxAgeMs } = limits;
  if ('last' in query) {
    const count = Math.min(Math.max(0, Math.floor(query.last)), historySize);
    if (count === 0) return { recovered: true, events: [] };
    const reply = await scripts.history(keys, query, count);
    if (reply.length === 0) return { recovered: true, events: [] };
    const [epoch, nowMs, , , raw] = reply;
    const oldestKept = Number(nowMs) - historyMaxAgeMs;
    const entries = raw.map(parseStreamEntry).filter((entry) => streamIdMs(entry.id) >= oldestKept);
    return {
      recovered: true,
      events: entries.reverse().map((entry) => toBrokerEvent(channel, epoch, entry)),
    };
  }

  const parsed = parseEventId(query.after);
  if (!parsed?.position.includes('-')) return { recovered: false, reason: 'unknown-id' };
  if (historySize === 0) return { recovered: false, reason: 'unknown-id' };
  const reply = await scripts.history(keys, { after: parsed.position }, historySize + 1);
  if (reply.length === 0 || reply[0] !== parsed.epoch) return { recovered: false, reason: 'epoch-changed' };
  const [epoch, nowMs, firstId, lastId, raw] = reply;
  // Nothing stored yet after a position taken at the stream's start: complete, and empty.
  if (lastId === '' && parsed.position === '0-0') return { recovered: true, events: [] };
  // The epoch is there but the stream is gone (evicted by a maxmemory policy): its events are lost.
  if (lastId === '') return { recovered: false, reason: 'evicted' };
  const after = parsed.position;
  if (compareStreamIds(after, lastId) > 0) return { recovered: false, reason: 'unknown-id' };
  const entries = raw.map(parseStreamEntry);
  const first = entries[0];
  if (!first) return { recovered: true, events: [] };
  if (first.prev !== after) {
    return { recovered: false, reason: compareStreamIds(after, firstId) < 0 ? 'evicted' : 'unknown-id' };
  }
  if (entries.length > historySize) return { recovered: false, reason: 'evicted' };
  if (streamIdMs(first.id) < Number(nowMs) - historyMaxAgeMs) {
    return { recovered: false, reason: 'evicted' };
  }
  return { recovered: true, events: entries.map((entry) => toBrokerEvent(channel, epoch, entry)) };
}

function streamIdMs(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}
