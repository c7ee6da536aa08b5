import type { BrokerEvent } from './broker/broker.ts';

/**
 * tRPC wire frames for channel events, built without one `JSON.stringify` per subscriber.
 *
 * tRPC sends a tracked subscription item as
 *   {"id":<subscription id>,"result":{"type":"data","id":<event id>,"data":<transformer output of {id,data}>}}
 * and superjson's output for plain JSON is `{"json":<value>}`. Everything after the subscription id is the
 * same for every subscriber at the same position, so it is built once per event and each subscription only
 * prepends its own `{"id":<n>` (`subscriptionFramePrefix`). Channel payloads are plain JSON (validated by
 * zod schemas), so superjson never needs `meta`.
 *
 * `position` is the id of the last stored event the subscriber has been sent. Stored events carry their
 * own id. Ephemeral and system events carry the subscriber's position, because `@trpc/client` overwrites
 * its resume id (`lastEventId`) with the `result.id` of every data frame, even one without an id.
 */
export function eventFrameTail(event: BrokerEvent, position: string | undefined): Buffer {
  return Buffer.from(eventFrameTailText(event, position));
}

function eventFrameTailText(event: BrokerEvent, position: string | undefined): string {
  // The envelope JSON starts with "{": a stored event's id is spliced in front of its other fields.
  const envelope =
    event.id === undefined ? event.json : `{"id":${JSON.stringify(event.id)},${event.json.slice(1)}`;
  if (position === undefined) return `,"result":{"type":"data","data":{"json":{"data":${envelope}}}}}`;
  const id = JSON.stringify(position);
  return `,"result":{"type":"data","id":${id},"data":{"json":{"id":${id},"data":${envelope}}}}}`;
}

/** Interned prefixes of the usual small numeric subscription ids, so subscribers can be grouped by identity. */
const prefixes = new Map<string | number, Buffer>();
const MAX_INTERNED_PREFIXES = 10_000;

/**
 * The per-subscription head of a frame. `@trpc/client` numbers subscriptions per connection, so most
 * subscribers of a channel share an id (often 1) and therefore one interned prefix — and one encoded frame.
 */
export function subscriptionFramePrefix(subscriptionId: string | number): Buffer {
  let prefix = prefixes.get(subscriptionId);
  if (prefix) return prefix;
  prefix = Buffer.from(`{"id":${JSON.stringify(subscriptionId)}`);
  if (prefixes.size < MAX_INTERNED_PREFIXES) prefixes.set(subscriptionId, prefix);
  return prefix;
}

/** The notification that makes `@trpc/client` reconnect (sent on graceful shutdown). */
export const RECONNECT_NOTIFICATION = JSON.stringify({ id: null, method: 'reconnect' });
