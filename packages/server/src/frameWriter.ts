import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/** The parts of `ws` internals this module relies on (the same ones Socket.IO's pre-encoded frames use). */
interface WsInternals {
  _sender: { _state: number; sendFrame(list: Buffer[], cb?: () => void): void };
  _socket: Socket;
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

/** Sockets corked in this tick; all uncorked together on the next tick. */
const corked = new Set<Socket>();
let uncorkScheduled = false;
/** A socket with this much corked is flushed at once, so a long history replay is not held back (and its
 * buffered bytes do not look like a slow consumer). */
const CORK_FLUSH_BYTES = 64 * 1024;

function uncorkAll(): void {
  uncorkScheduled = false;
  for (const socket of corked) socket.uncork();
  corked.clear();
}

/**
 * Corks a socket until the next tick, so every frame one tick sends it (a burst of events, a history
 * replay) leaves in one `writev` instead of one syscall per frame — what engine.io gets by queueing while
 * a write is in flight. Latency is unchanged: the data leaves before any timer or I/O callback runs.
 */
function corkForThisTick(socket: Socket): void {
  if (corked.has(socket)) {
    if (socket.writableLength >= CORK_FLUSH_BYTES) {
      socket.uncork();
      corked.delete(socket);
    }
    return;
  }
  socket.cork();
  corked.add(socket);
  if (!uncorkScheduled) {
    uncorkScheduled = true;
    process.nextTick(uncorkAll);
  }
}

/**
 * Sends a text message (an answer, a notice) through `ws`, corked with whatever else this tick sends the
 * socket: a subscribe's `started` and its history and `$live` leave in one `writev`, not one syscall each.
 */
export function writeText(socket: WebSocket, text: string): void {
  corkForThisTick((socket as unknown as WsInternals)._socket);
  socket.send(text);
}

/** Writes a frame from `encodeTextFrame`; falls back to `ws`'s `send` if its sender is busy with something else. */
export function writeFrame(socket: WebSocket, frame: Buffer): void {
  const internals = socket as unknown as WsInternals;
  const sender = internals._sender;
  if (sender._state === SENDER_IDLE) {
    corkForThisTick(internals._socket);
    sender.sendFrame([frame]);
    return;
  }
  const second = frame[1]! & 0x7f;
  const headerLength = second === 127 ? 10 : second === 126 ? 4 : 2;
  socket.send(frame.subarray(headerLength), { binary: false });
}
