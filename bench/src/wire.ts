import { createHmac } from 'node:crypto';
import { PAYLOAD_BYTES } from './config.ts';

/**
 * Server processes under test: the raw `ws` reference, `ws` writing one pre-encoded frame to every socket
 * (Socket.IO's technique: the practical limit of Node + `ws`), Socket.IO, Switchboard.
 */
export type ServerKind = 'raw' | 'pre' | 'sio' | 'sb';

/**
 * What a figure is measured on: a server and the wire its subscribers speak. `sse` is a Switchboard server
 * whose subscribers hold Server-Sent Events streams (`GET /trpc/channel.subscribe`) instead of WebSockets;
 * its publisher still publishes over a WebSocket.
 */
export type SystemKind = ServerKind | 'sse';

/** The server process a system runs on. */
export const serverOf = (system: SystemKind): ServerKind => (system === 'sse' ? 'sb' : system);

export const channelName = (index: number) => `bench:c${index}`;

/** The event type every server publishes (`tick` in Switchboard's bench channel). */
export const EVENT_TYPE = 'tick';

/**
 * The ~100-byte payload: a sequence number, the publish time on the load generator's clock (so the
 * receiver computes latency without parsing the whole frame) and padding.
 */
export function payloadJson(seq: number, publishedAt: number): string {
  const head = `{"seq":${seq},"t":${publishedAt.toFixed(3)},"pad":"`;
  return `${head}${'x'.repeat(Math.max(0, PAYLOAD_BYTES - head.length - 2))}"}`;
}

/** The payload as the object an app hands to its own publish function (server-side publishing). */
export function payloadObject(seq: number, publishedAt: number): unknown {
  return JSON.parse(payloadJson(seq, publishedAt));
}

const T_KEY = Buffer.from('"t":');

/** Reads the publish time out of a received frame (any of the three protocols), or NaN. */
export function readPublishedAt(frame: Buffer): number {
  const at = frame.indexOf(T_KEY);
  if (at < 0) return Number.NaN;
  return Number.parseFloat(frame.toString('latin1', at + 4, at + 24));
}

/** An HS256 JWT, as the demo's `/auth/dev-login` would issue (subject, name, expiry). */
export function signToken(secret: string, userId: string, ttlSec = 24 * 3600): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const header = encode({ alg: 'HS256', typ: 'JWT' });
  const claims = encode({ sub: userId, name: userId, exp: Math.floor(Date.now() / 1000) + ttlSec });
  const signature = createHmac('sha256', secret).update(`${header}.${claims}`).digest('base64url');
  return `${header}.${claims}.${signature}`;
}
