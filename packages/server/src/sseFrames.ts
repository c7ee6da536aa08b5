import type { BrokerEvent } from './broker/broker.ts';

/**
 * Server-Sent Events chunks for channel events, in the shape `@trpc/client`'s `httpSubscriptionLink` reads.
 *
 * tRPC's SSE producer sends a tracked item as `id: <event id>` plus `data: <transformer output of the item's
 * data>`; the link rebuilds `{ id, data: { id, data } }` from the two, the same value a WebSocket frame carries
 * (see `frames.ts`). superjson's output for plain JSON is `{"json":<value>}`, and channel payloads are plain
 * JSON, so a chunk is built by splicing strings, once per event and position, and shared by every SSE
 * subscriber at that position (an SSE chunk has no per-subscription part, unlike a WebSocket frame).
 *
 * `position` is the id of the last stored event the subscriber was sent. Ephemeral and system events carry it
 * too, as on the WebSocket: an EventSource resends its last `id:` as `Last-Event-ID` when it reconnects, so
 * every chunk must leave it on a position that resumes exactly.
 */
export function sseEventChunk(event: BrokerEvent, position: string | undefined): Buffer {
  const envelope =
    event.id === undefined ? event.json : `{"id":${JSON.stringify(event.id)},${event.json.slice(1)}`;
  // An id with a line break would end the field early; event ids never have one (epoch:sequence).
  const idLine = position === undefined ? '' : `id: ${position}\n`;
  return Buffer.from(`${idLine}data: {"json":${envelope}}\n\n`);
}

/**
 * A named SSE event (`connected`, `ping`, `return`, `serialized-error`): the control events of tRPC's SSE
 * protocol (`unstable-core-do-not-import/stream/sse.ts`), which `httpSubscriptionLink` listens for.
 */
export function sseControlChunk(event: SseControlEvent, data = ''): string {
  return `event: ${event}\ndata: ${data}\n\n`;
}

/** tRPC's SSE control event names. */
export const SseControlEvent = {
  CONNECTED: 'connected',
  PING: 'ping',
  RETURN: 'return',
  SERIALIZED_ERROR: 'serialized-error',
  RESTORE_ID: 'restore-id',
} as const;
export type SseControlEvent = (typeof SseControlEvent)[keyof typeof SseControlEvent];

/** The response headers of an SSE stream (tRPC's `sseHeaders`; `X-Accel-Buffering` turns nginx buffering off). */
export const sseHeaders = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
  connection: 'keep-alive',
} as const;
