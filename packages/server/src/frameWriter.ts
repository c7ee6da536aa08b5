import type { WebSocket } from 'ws';

/** The parts of `ws` internals this module relies on (the same ones Socket.IO's pre-encoded frames use). */
interface WsInternals {
  _sender: { _state: number; sendFrame(list: Buffer[], cb?: () => void): void };
}

/** `ws`'s Sender state when nothing is queued (no deflate or blob read in progress). */
const SENDER_IDLE = 0;
const OPCODE_TEXT_FIN = 0x81;

/**
 * Writes one unmasked text frame made of two parts — a small per-subscriber `head` and a `body` shared by
 * every subscriber of an event — without concatenating or re-encoding the body. `ws`'s own `send` would
 * UTF-8 encode and measure the whole string again for every socket; here the body is encoded once per
 * event and handed to each socket as the same Buffer (a writev of header+head and body).
 *
 * Valid because `perMessageDeflate` is off (frames are never compressed) and server frames are never
 * masked; falls back to `ws`'s `send` if the sender is busy with something else.
 */
export function writeTextFrame(socket: WebSocket, head: Buffer, body: Buffer): void {
  const sender = (socket as unknown as WsInternals)._sender;
  if (sender._state !== SENDER_IDLE) {
    socket.send(Buffer.concat([head, body]), { binary: false });
    return;
  }
  const length = head.length + body.length;
  const headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const first = Buffer.allocUnsafe(headerLength + head.length);
  first[0] = OPCODE_TEXT_FIN;
  if (headerLength === 2) {
    first[1] = length;
  } else if (headerLength === 4) {
    first[1] = 126;
    first.writeUInt16BE(length, 2);
  } else {
    first[1] = 127;
    first.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    first.writeUInt32BE(length >>> 0, 6);
  }
  head.copy(first, headerLength);
  sender.sendFrame([first, body]);
}
