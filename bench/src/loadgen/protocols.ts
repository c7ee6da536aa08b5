import { EVENT_TYPE } from '../wire.ts';

/**
 * The exact text frames each client library sends, so the load generator can use bare `ws` sockets and
 * stay cheap. `verify.ts` checks these against what the official `@trpc/client` and `socket.io-client`
 * send before any figure is taken.
 */

/** Raw `ws` reference: the bench's own minimal JSON protocol. */
export const rawFrames = {
  subscribe: (channel: string) => JSON.stringify({ sub: channel }),
  subscribed: (text: string) => text.startsWith('{"ok":'),
  publish: (channel: string, payload: string) => `{"pub":${JSON.stringify(channel)},"payload":${payload}}`,
};

/**
 * tRPC v11 wire protocol as `@trpc/client`'s wsLink writes it: `{ id, method, params: { input, path,
 * lastEventId } }` with superjson's `{"json": ...}` around the input (`lastEventId` only on a resubscribe).
 */
export const trpcFrames = {
  subscribe(id: number, channel: string, lastEventId?: string) {
    const resume = lastEventId === undefined ? '' : `,"lastEventId":${JSON.stringify(lastEventId)}`;
    return `{"id":${id},"method":"subscription","params":{"input":{"json":{"channel":${JSON.stringify(channel)}}},"path":"channel.subscribe"${resume}}}`;
  },
  publish(id: number, channel: string, payload: string) {
    return `{"id":${id},"method":"mutation","params":{"input":{"json":{"channel":${JSON.stringify(channel)},"type":"${EVENT_TYPE}","payload":${payload}}},"path":"channel.publish"}}`;
  },
  started: (id: number) => `{"id":${id},"result":{"type":"started"}}`,
};

/**
 * Socket.IO 4 over its WebSocket transport (Engine.IO v4 packets): `0{...}` open, `40` connect to "/",
 * `42[...]` event, `42<n>[...]` event with ack n, `43<n>[...]` ack, `2`/`3` ping/pong.
 */
export const socketIoFrames = {
  path: '/socket.io/?EIO=4&transport=websocket',
  connect: '40',
  join: (ackId: number, channel: string) => `42${ackId}${JSON.stringify(['join', channel])}`,
  publish: (channel: string, payload: string) =>
    `42["publish",{"channel":${JSON.stringify(channel)},"payload":${payload}}]`,
  ping: '2',
  pong: '3',
};

/** Finds the resume position the way `@trpc/client` does: the `result.id` of every data frame (or none). */
const DATA_RESULT = /^\{"id":\d+,"result":\{"type":"data"(?:,"id":("(?:[^"\\]|\\.)*"))?/;

export function trpcDataResultId(text: string): { isData: boolean; id: string | undefined } {
  const match = DATA_RESULT.exec(text);
  if (!match) return { isData: false, id: undefined };
  return { isData: true, id: match[1] === undefined ? undefined : (JSON.parse(match[1]) as string) };
}

/**
 * tRPC v11 subscriptions over Server-Sent Events, as `httpSubscriptionLink` opens them: `GET
 * /trpc/<path>?input=<superjson of the input>`. Each channel event is one `data: {"json":…}` field (after an
 * `id:` line); control events (`connected`, `ping`) are named and carry no `{"json"`, so counting the marker
 * counts events.
 */
export const sseFrames = {
  subscribePath: (channel: string) =>
    `/trpc/channel.subscribe?input=${encodeURIComponent(JSON.stringify({ json: { channel } }))}`,
  event: 'data: {"json"',
  live: '"type":"$live"',
  error: 'event: serialized-error',
  /** Enough of a previous read to find an event marker cut in two. */
  carryChars: 'data: {"json"'.length - 1,
};
