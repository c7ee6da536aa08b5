import { Redis } from 'ioredis';
import { WebSocket } from 'ws';
import { EVENT_TYPE } from '../wire.ts';
import type { CreatedServer } from './main.ts';
import { serveRawWire } from './rawWire.ts';

/** Prefix of the reference's pub/sub channels, apart from Switchboard's and Socket.IO's on the same Redis. */
const PUBSUB_PREFIX = 'raw:';

/**
 * The raw `ws` reference on Redis: what a Node team writes to run the raw broadcast on several instances.
 * The same wire as `raw.ts` (`{sub}` → `{ok}`, `{pub, payload}`), a `Set` of sockets per channel, and one
 * Redis pub/sub channel per bench channel, subscribed when the channel gets its first local socket. A
 * publish is `JSON.stringify` once and one `PUBLISH` (ioredis defaults); every instance, the publisher's
 * included, forwards the message it receives from Redis to its local sockets as it is, with no re-encode.
 * No history, ids, auth, heartbeat or limits: the floor for "publish → receive through Redis".
 */
export async function createRawRedisServer(redisUrl: string): Promise<CreatedServer> {
  const publisher = new Redis(redisUrl);
  const subscriber = new Redis(redisUrl);
  await Promise.all([publisher.ping(), subscriber.ping()]);
  const channels = new Map<string, Set<WebSocket>>();
  /** The SUBSCRIBE of each channel with local sockets: a socket is told `ok` once it is in force. */
  const subscribed = new Map<string, Promise<unknown>>();

  subscriber.on('message', (pubsub: string, text: string) => {
    const members = channels.get(pubsub.slice(PUBSUB_PREFIX.length));
    if (!members) return;
    for (const member of members) if (member.readyState === WebSocket.OPEN) member.send(text);
  });

  function publish(channel: string, payload: unknown) {
    const text = JSON.stringify({ channel, type: EVENT_TYPE, payload, ts: Date.now() });
    return publisher.publish(PUBSUB_PREFIX + channel, text);
  }

  function join(channel: string, socket: WebSocket): Promise<unknown> {
    let members = channels.get(channel);
    if (!members) channels.set(channel, (members = new Set()));
    members.add(socket);
    let done = subscribed.get(channel);
    if (!done) subscribed.set(channel, (done = subscriber.subscribe(PUBSUB_PREFIX + channel)));
    return done;
  }

  function leave(channel: string, socket: WebSocket) {
    const members = channels.get(channel);
    members?.delete(socket);
    if (members?.size !== 0) return;
    channels.delete(channel);
    subscribed.delete(channel);
    subscriber.unsubscribe(PUBSUB_PREFIX + channel).catch(() => {});
  }

  return serveRawWire({ join, leave, publish });
}
