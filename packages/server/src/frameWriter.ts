import type { WebSocket } from 'ws';

/** The parts of `ws` internals this module relies on (the same ones Socket.IO's pre-encoded frames use). */
interface WsInternals {
  _sender: { _state: number; sendFrame(list: Buffer[], cb?: () => void): void };
}

/** `ws`'s Sender state when nothing is queued (no deflate or blob read in progress). */
const SENDER_IDLE = 0;
const OPCODE_TEXT_FIN = 0x81;

function headerLengthOf(payloadLength: number): number {
  return payloadLength < 126 ? 2 : payloadLength < 65536 ? 4 : 10;
}

/**
 * Encodes one complete, unmasked WebSocket text frame (header included) from a small `head` and a `body`.
 * The fan-out builds it once per event for every subscriber with the same head (subscription id), so each
 * socket gets the same bytes — Socket.IO's pre-encoded frame, with tRPC's per-subscription id.
 * Valid because `perMessageDeflate` is off (frames are never compressed) and server frames are never masked.
 */
export function encodeTextFrame(head: Buffer, body: Buffer): Buffer {
  const length = head.length + body.length;
  const headerLength = headerLengthOf(length);
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = OPCODE_TEXT_FIN;
  if (headerLength === 2) {
    frame[1] = length;
  } else if (headerLength === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  head.copy(frame, headerLength);
  body.copy(frame, headerLength + head.length);
  return frame;
}

/** Writes a frame from `encodeTextFrame`; falls back to `ws`'s `send` if its sender is busy with something else. */
export function writeFrame(socket: WebSocket, frame: Buffer): void {
  const sender = (socket as unknown as WsInternals)._sender;
  if (sender._state === SENDER_IDLE) {
    sender.sendFrame([frame]);
    return;
  }
  const second = frame[1]! & 0x7f;
  const headerLength = second === 127 ? 10 : second === 126 ? 4 : 2;
  socket.send(frame.subarray(headerLength), { binary: false });
}
