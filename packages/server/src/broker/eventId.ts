/**
 * Event ids are `<epoch>:<position>`. The epoch is a random value created with a channel's stream (Redis)
 * or with the broker (memory), so a stream that was lost and recreated (process restart, Redis restart
 * without persistence) is detected instead of silently replaying from the wrong place. The position orders
 * events within one epoch: `<ms>-<seq>`, a Redis stream id or the memory broker's clock (`<n>` is parsed
 * too, as ids of older memory brokers).
 */
export interface ParsedEventId {
  epoch: string;
  major: number;
  minor: number;
  position: string;
}

const EVENT_ID_PATTERN = /^([a-z0-9]{1,16}):(\d{1,16})(?:-(\d{1,16}))?$/;

export function formatEventId(epoch: string, position: string | number): string {
  return `${epoch}:${position}`;
}

/** Parses an id, or returns null when it is not one a Switchboard broker issued. */
export function parseEventId(id: string): ParsedEventId | null {
  const match = EVENT_ID_PATTERN.exec(id);
  if (!match) return null;
  const [, epoch, major, minor] = match;
  const position = minor === undefined ? major! : `${major}-${minor}`;
  return { epoch: epoch!, major: Number(major), minor: Number(minor ?? 0), position };
}

/** Orders two ids of the same epoch; ids that do not parse sort first. */
export function compareEventIds(a: string, b: string): number {
  const pa = parseEventId(a);
  const pb = parseEventId(b);
  if (!pa || !pb) return pa ? 1 : pb ? -1 : 0;
  return pa.major - pb.major || pa.minor - pb.minor;
}

/** A new random epoch: 8 base-36 characters. */
export function newEpoch(): string {
  let epoch = '';
  while (epoch.length < 8) epoch += Math.random().toString(36).slice(2);
  return epoch.slice(0, 8);
}
