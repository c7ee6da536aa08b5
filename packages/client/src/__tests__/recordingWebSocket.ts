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
  let loseFrameOf: { path: string; killAfterMs: number } | undefined;
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
        const lose = loseFrameOf;
        if (lose && requests.some((request) => request.params?.path === lose.path)) {
          // The frame is lost with its socket: sent as far as the client can tell, never answered.
          loseFrameOf = undefined;
          if (lose.killAfterMs === 0) this.terminate();
          else setTimeout(() => this.terminate(), lose.killAfterMs);
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
    /**
     * The next frame carrying a request of `path` is dropped and its socket killed, at once or after
     * `killAfterMs` (a half-open socket: the client learns of the loss only then).
     */
    loseNextFrameOf(path: string, killAfterMs = 0) {
      loseFrameOf = { path, killAfterMs };
    },
    /** Inputs of the calls of `path` sent so far, in order (resends included). */
    inputsOf: (path: string) =>
      sent.filter((request) => request.params?.path === path).map((request) => request.params?.input?.json),
  };
}
