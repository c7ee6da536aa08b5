import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { encodeTextFrame, writeFrame } from './frameWriter.ts';

describe('encodeTextFrame + writeFrame', () => {
  it.each([0, 100, 125, 126, 1000, 65_535, 65_536, 200_000])(
    'frames a %i-byte body that ws clients decode intact',
    async (size) => {
      const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
      await once(wss, 'listening');
      const { port } = wss.address() as { port: number };
      const serverSide = once(wss, 'connection');
      const client = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
      const [socket] = (await serverSide) as [WebSocket];
      const body = Buffer.from(`"${'é'.repeat(Math.floor(size / 2))}"`);
      const received = once(client, 'message');
      writeFrame(
        socket,
        encodeTextFrame(Buffer.from('{"id":1,"x":'), Buffer.concat([body, Buffer.from('}')])),
      );
      const [data, isBinary] = (await received) as [Buffer, boolean];
      expect(isBinary).toBe(false);
      expect(JSON.parse(data.toString())).toEqual({ id: 1, x: JSON.parse(body.toString()) });
      client.close();
      wss.close();
    },
  );
});
