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
  const sockets = new Set<WebSocket>();
  /** `close(code)` calls the client made on a socket still connecting or open (not the test's kills). */
  const closedByClient: (number | undefined)[] = [];
  let loseFrameOf: string | undefined;
  class RecordingWebSocket extends WebSocket {
    constructor(...args: ConstructorParameters<typeof WebSocket>) {
      super(...args);
      sockets.add(this);
      this.on('close', () => sockets.delete(this));
    }
    override send(data: unknown, ...rest: unknown[]): void {
      const text = String(data);
      if (text !== 'PING' && text !== 'PONG') {
        const parsed = JSON.parse(text) as SentRequest | SentRequest[];
        const requests = Array.isArray(parsed) ? parsed : [parsed];
        sent.push(...requests);
        if (loseFrameOf !== undefined && requests.some((request) => request.params?.path === loseFrameOf)) {
          // The frame is lost with its socket: sent as far as the client can tell, never answered.
          loseFrameOf = undefined;
          this.terminate();
          return;
        }
      }
      (super.send as (...args: unknown[]) => void)(data, ...rest);
    }
    override close(code?: number, reason?: string | Buffer): void {
      if (this.readyState === WebSocket.CONNECTING || this.readyState === WebSocket.OPEN)
        closedByClient.push(code);
      super.close(code, reason);
    }
  }
  return {
    WebSocket: RecordingWebSocket,
    sent,
    closedByClient,
    /** Kills every socket of this recorder without a close frame, as a network drop would. */
    terminateAll() {
      for (const socket of sockets) socket.terminate();
    },
    /** The next frame carrying a request of `path` is dropped and its socket killed. */
    loseNextFrameOf(path: string) {
      loseFrameOf = path;
    },
    /** Inputs of the calls of `path` sent so far, in order (resends included). */
    inputsOf: (path: string) =>
      sent.filter((request) => request.params?.path === path).map((request) => request.params?.input?.json),
  };
}
