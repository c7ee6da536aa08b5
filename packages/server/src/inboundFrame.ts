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
  const measure = isBatch && bytes.length > limits.maxPayloadBytes;
  const messages: InboundMessage[] = [];
  for (const item of batch) {
    if (measure && Buffer.byteLength(JSON.stringify(item)) > limits.maxPayloadBytes) {
      return { kind: 'refused', error: connectionErrors.messageTooBig() };
    }
    const result = inboundMessageSchema.safeParse(item);
    if (!result.success) return { kind: 'refused', error: connectionErrors.schema() };
    messages.push(result.data);
  }
  return { kind: 'messages', messages };
}
