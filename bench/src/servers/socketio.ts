import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { EVENT_TYPE } from '../wire.ts';
import type { CreatedServer } from './main.ts';

/**
 * Socket.IO 4.8 as its docs show it: rooms, `io.to(room).emit`, WebSocket transport only, and with
 * `redisUrl` the `@socket.io/redis-adapter` so two instances share rooms.
 */
export async function createSocketIoServer(redisUrl: string | undefined): Promise<CreatedServer> {
  const httpServer = createServer();
  const io = new Server(httpServer, {
    transports: ['websocket'],
    serveClient: false,
    perMessageDeflate: false,
  });
  if (redisUrl) {
    const pubClient = new Redis(redisUrl);
    const subClient = pubClient.duplicate();
    io.adapter(createAdapter(pubClient, subClient));
  }

  const publish = (channel: string, payload: unknown) => {
    io.to(channel).emit(EVENT_TYPE, { channel, type: EVENT_TYPE, payload, ts: Date.now() });
  };
  io.on('connection', (socket) => {
    socket.on('join', (room: string, ack?: () => void) => {
      void socket.join(room);
      ack?.();
    });
    socket.on('publish', (message: { channel: string; payload: unknown }) => {
      publish(message.channel, message.payload);
    });
  });

  return {
    async listen(port) {
      await new Promise<void>((resolve) => httpServer.listen(port, '127.0.0.1', resolve));
      return (httpServer.address() as AddressInfo).port;
    },
    publish,
  };
}
