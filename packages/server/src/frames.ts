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

export function subscriptionFramePrefix(subscriptionId: string | number): Buffer {
  return Buffer.from(`{"id":${JSON.stringify(subscriptionId)}`);
}

/** The notification that makes `@trpc/client` reconnect (sent on graceful shutdown). */
export const RECONNECT_NOTIFICATION = JSON.stringify({ id: null, method: 'reconnect' });
