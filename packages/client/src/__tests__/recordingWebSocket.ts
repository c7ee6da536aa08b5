/**
 * A `ws` WebSocket that records every request the client sends (the tRPC messages of each frame, batches
 * unpacked), so a test can assert what went on the wire, e.g. that a retried publish carried the same
 * idempotency key. Create one recorder per test; pass `recorder.WebSocket` as the client's `WebSocket`.
 */
import WebSocket from 'ws';

export interface SentRequest {
  id: number;
  method: string;
  params?: { path?: string; input?: { json?: Record<string, unknown> } };
}

export function recordingWebSocket() {
  const sent: SentRequest[] = [];
  class RecordingWebSocket extends WebSocket {
    override send(data: unknown, ...rest: unknown[]): void {
      const text = String(data);
      if (text !== 'PING' && text !== 'PONG') {
        const parsed = JSON.parse(text) as SentRequest | SentRequest[];
        sent.push(...(Array.isArray(parsed) ? parsed : [parsed]));
      }
      (super.send as (...args: unknown[]) => void)(data, ...rest);
    }
  }
  return {
    WebSocket: RecordingWebSocket,
    sent,
    /** Inputs of the calls of `path` sent so far, in order (resends included). */
    inputsOf: (path: string) =>
      sent.filter((request) => request.params?.path === path).map((request) => request.params?.input?.json),
  };
}
