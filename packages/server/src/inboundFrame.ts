import type { SwitchboardError } from '@switchboard/protocol';
import { connectionErrors } from './errors.ts';
import { type InboundMessage, inboundMessageSchema } from './wireMessages.ts';

/** What one inbound WebSocket frame carries, once read. */
export type InboundFrame =
  | { kind: 'ping' }
  | { kind: 'pong' }
  | { kind: 'messages'; messages: InboundMessage[] }
  | { kind: 'refused'; error: SwitchboardError };

export interface InboundFrameLimits {
  /** Largest single message, in bytes (a batch's messages are measured one by one). */
  maxPayloadBytes: number;
  /** Most messages one frame may batch. */
  maxBatchSize: number;
}

/**
 * Reads one frame of tRPC's wire protocol: `PING`/`PONG` keep-alives, or one message or a batch (an array,
 * as `@trpc/client` sends everything queued while it was disconnected). Every message must match the wire
 * schema; anything else refuses the whole frame with the error that closes the connection (1008, or 1009 for
 * a message over `maxPayloadBytes`). Frames over the frame limit never get here: `ws` closes them with 1009.
 */
export function readInboundFrame(
  data: Buffer | ArrayBuffer | Buffer[],
  isBinary: boolean,
  limits: InboundFrameLimits,
): InboundFrame {
  if (isBinary) return { kind: 'refused', error: connectionErrors.binary() };
  const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
  const text = bytes.toString('utf8');
  if (text === 'PING') return { kind: 'ping' };
  if (text === 'PONG') return { kind: 'pong' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { kind: 'refused', error: connectionErrors.malformed('malformed JSON frame') };
  }
  const isBatch = Array.isArray(parsed);
  const batch: unknown[] = isBatch ? (parsed as unknown[]) : [parsed];
  if (batch.length === 0 || batch.length > limits.maxBatchSize) {
    return { kind: 'refused', error: connectionErrors.schema() };
  }
  // One message in a frame is measured by the frame; a batch's messages only when the frame could hold a
  // large one, so the common small batch costs no second serialisation.
  if (!isBatch && bytes.length > limits.maxPayloadBytes) {
    return { kind: 'refused', error: connectionErrors.messageTooBig() };
  }
  if (isBatch && bytes.length > limits.maxPayloadBytes && largestItemBytes(text) > limits.maxPayloadBytes) {
    return { kind: 'refused', error: connectionErrors.messageTooBig() };
  }
  const messages: InboundMessage[] = [];
  for (const item of batch) {
    const result = inboundMessageSchema.safeParse(item);
    if (!result.success) return { kind: 'refused', error: connectionErrors.schema() };
    messages.push(result.data);
  }
  return { kind: 'messages', messages };
}

/**
 * The size in bytes of the largest item of a JSON array, read from its text in one pass (never by
 * serialising the parsed items again: that recursion overflows the stack on a deeply nested item, and a
 * client chooses the nesting).
 */
export function largestItemBytes(arrayText: string): number {
  let largest = 0;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let itemStart = -1;
  const close = (end: number) => {
    if (itemStart >= 0)
      largest = Math.max(largest, Buffer.byteLength(arrayText.slice(itemStart, end).trim()));
  };
  for (let i = 0; i < arrayText.length; i++) {
    const char = arrayText.charCodeAt(i);
    if (inString) {
      if (escaped) escaped = false;
      else if (char === 0x5c /* \ */) escaped = true;
      else if (char === 0x22 /* " */) inString = false;
      continue;
    }
    if (char === 0x22) inString = true;
    else if (char === 0x5b /* [ */ || char === 0x7b /* { */) {
      if (depth === 0) itemStart = i + 1;
      depth++;
    } else if (char === 0x5d /* ] */ || char === 0x7d /* } */) {
      depth--;
      if (depth === 0) close(i);
    } else if (char === 0x2c /* , */ && depth === 1) {
      close(i);
      itemStart = i + 1;
    }
  }
  return largest;
}
