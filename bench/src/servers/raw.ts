import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as ws from 'ws';
import { WebSocket, WebSocketServer } from 'ws';
import { EVENT_TYPE } from '../wire.ts';
import type { CreatedServer } from './main.ts';

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
  const httpServer = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server: httpServer, perMessageDeflate: false, clientTracking: false });
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

  wss.on('connection', (socket) => {
    const joined: string[] = [];
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString()) as { sub?: string; pub?: string; payload?: unknown };
      if (message.sub !== undefined) {
        let members = channels.get(message.sub);
        if (!members) channels.set(message.sub, (members = new Set()));
        members.add(socket);
        joined.push(message.sub);
        socket.send(JSON.stringify({ ok: message.sub }));
      } else if (message.pub !== undefined) {
        publish(message.pub, message.payload);
      }
    });
    socket.on('close', () => {
      for (const channel of joined) {
        const members = channels.get(channel);
        members?.delete(socket);
        if (members?.size === 0) channels.delete(channel);
      }
    });
    socket.on('error', () => {});
  });

  return {
    async listen(port) {
      await new Promise<void>((resolve) => httpServer.listen(port, '127.0.0.1', resolve));
      return (httpServer.address() as AddressInfo).port;
    },
    publish,
  };
}
