import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { EVENT_TYPE } from '../wire.ts';
import type { CreatedServer } from './main.ts';

/**
 * The reference: what a careful Node developer writes by hand with `ws`. One `JSON.stringify` per publish,
 * a `Set` of sockets per channel, `perMessageDeflate` off, nothing else (no auth, heartbeat or limits).
 */
export async function createRawServer(): Promise<CreatedServer> {
  const httpServer = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server: httpServer, perMessageDeflate: false, clientTracking: false });
  const channels = new Map<string, Set<WebSocket>>();

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
        const members = channels.get(message.pub);
        if (!members) return;
        const frame = JSON.stringify({
          channel: message.pub,
          type: EVENT_TYPE,
          payload: message.payload,
          ts: Date.now(),
        });
        for (const member of members) if (member.readyState === WebSocket.OPEN) member.send(frame);
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
  };
}
