import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import type { CreatedServer } from './main.ts';

/** What a raw reference server does with the wire's two messages; the wire itself is `serveRawWire`'s. */
export interface RawChannels {
  /** Adds `socket` to `channel`; the socket is told `{ok}` once the returned promise (if any) settles. */
  join(channel: string, socket: WebSocket): Promise<unknown> | undefined;
  leave(channel: string, socket: WebSocket): void;
  publish(channel: string, payload: unknown): unknown;
}

/**
 * The raw references' wire (`raw.ts`, `rawRedis.ts`), what a Node developer writes by hand: `{sub}` joins a
 * channel and is answered `{ok}`, `{pub, payload}` publishes; `perMessageDeflate` off, no auth, heartbeat
 * or limits. A socket leaves every channel it joined when it closes. A join that fails closes it (1011).
 */
export function serveRawWire(channels: RawChannels): CreatedServer {
  const httpServer = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server: httpServer, perMessageDeflate: false, clientTracking: false });
  wss.on('connection', (socket) => {
    const joined: string[] = [];
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString()) as { sub?: string; pub?: string; payload?: unknown };
      if (message.sub !== undefined) {
        const channel = message.sub;
        joined.push(channel);
        const ok = () => socket.send(JSON.stringify({ ok: channel }));
        const done = channels.join(channel, socket);
        if (done) done.then(ok, () => socket.close(1011));
        else ok();
      } else if (message.pub !== undefined) {
        channels.publish(message.pub, message.payload);
      }
    });
    socket.on('close', () => {
      for (const channel of joined) channels.leave(channel, socket);
    });
    socket.on('error', () => {});
  });
  return {
    async listen(port) {
      await new Promise<void>((resolve) => httpServer.listen(port, '127.0.0.1', resolve));
      return (httpServer.address() as AddressInfo).port;
    },
    publish: channels.publish,
  };
}
