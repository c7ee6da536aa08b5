import * as ws from 'ws';
import { WebSocket } from 'ws';
import { EVENT_TYPE } from '../wire.ts';
import type { CreatedServer } from './main.ts';
import { serveRawWire } from './rawWire.ts';

/** `ws`'s frame encoder (exported as `Sender`, which @types/ws does not declare). */
const { Sender } = ws as unknown as { Sender: { frame(data: Buffer, options: object): Buffer[] } };
/** The part of a `ws` socket that writes an already encoded frame (what engine.io calls). */
type WithSender = { _sender: { sendFrame(list: Buffer[], cb?: () => void): void } };

/**
 * The two `ws` baselines, both what a careful Node developer writes by hand: a `Set` of sockets per
 * channel, `perMessageDeflate` off, nothing else (no auth, heartbeat or limits).
 * - `raw` (the reference): one `JSON.stringify` per publish, then `socket.send(text)` per subscriber, so
 *   `ws` encodes the frame header and copies the text for every socket.
 * - `preEncoded`: the frame is also encoded once, with `WebSocket.Sender.frame`, and the same buffers are
 *   written to every socket through its sender. This is Socket.IO's technique (`socket.io-adapter`
 *   `in-memory-adapter.ts` `_encode` builds `wsPreEncodedFrame`; engine.io's websocket transport calls
 *   `socket._sender.sendFrame` with it): the practical per-delivery limit of Node + `ws`.
 */
export async function createRawServer(options: { preEncoded: boolean }): Promise<CreatedServer> {
  const channels = new Map<string, Set<WebSocket>>();

  function publish(channel: string, payload: unknown) {
    const members = channels.get(channel);
    if (!members) return;
    const text = JSON.stringify({ channel, type: EVENT_TYPE, payload, ts: Date.now() });
    if (!options.preEncoded) {
      for (const member of members) if (member.readyState === WebSocket.OPEN) member.send(text);
      return;
    }
    const frame = Sender.frame(Buffer.from(text), {
      readOnly: false,
      mask: false,
      rsv1: false,
      opcode: 1,
      fin: true,
    });
    for (const member of members)
      if (member.readyState === WebSocket.OPEN) (member as unknown as WithSender)._sender.sendFrame(frame);
  }

  return serveRawWire({
    join(channel, socket) {
      let members = channels.get(channel);
      if (!members) channels.set(channel, (members = new Set()));
      members.add(socket);
      return undefined;
    },
    leave(channel, socket) {
      const members = channels.get(channel);
      members?.delete(socket);
      if (members?.size === 0) channels.delete(channel);
    },
    publish,
  });
}
