import type { WebSocketConstructor } from './options.ts';

/** What the connection learns from each socket it creates. */
export interface SocketObserver {
  created(socket: object): void;
  opened(socket: object): void;
  /**
   * The server answered the upgrade with this HTTP status instead of switching protocols (Node only), and
   * `detail`, its reason from the response body (`{"error": ...}` or short text) when it sent one.
   */
  refused(socket: object, status: number, detail: string | undefined): void;
  closed(socket: object, code: number, reason: string): void;
  /** The socket failed (`error`); `closed` follows. */
  errored(socket: object): void;
  /** The client sent this frame on the socket (tRPC's messages, JSON text). */
  sent(socket: object, data: unknown): void;
}

/** The response of a refused upgrade, as `ws` hands it over (Node's `IncomingMessage`). */
interface RefusedResponse {
  statusCode?: number;
  on(event: 'data', listener: (chunk: Buffer | string) => void): void;
  on(event: 'end' | 'close' | 'error', listener: () => void): void;
}

interface NodeStyleSocket {
  on(event: 'unexpected-response', listener: (req: unknown, res: RefusedResponse) => void): void;
  terminate(): void;
}

/** Most of a refused upgrade's body read for its reason; a reason is short (a close reason fits 123 bytes). */
const MAX_REFUSAL_BODY_BYTES = 1024;

/**
 * True when sockets of this class report the HTTP status of a refused upgrade: the `ws` package emits
 * `unexpected-response`; browsers expose nothing (they only fire `error` and `close` 1006).
 */
export function reportsUpgradeStatus(WebSocketImpl: WebSocketConstructor): boolean {
  return typeof (WebSocketImpl.prototype as Partial<NodeStyleSocket> | undefined)?.on === 'function';
}

/**
 * Subclasses the WebSocket implementation so every socket tRPC's client creates reports to the observer,
 * with the socket itself: the connection can then ignore a stale socket's late events.
 * Listeners are added in the constructor, so they run before tRPC's own.
 */
export function instrumentWebSocket(
  WebSocketImpl: WebSocketConstructor,
  observer: SocketObserver,
  refusalBodyTimeoutMs: number,
): typeof WebSocket {
  const Base = WebSocketImpl as unknown as typeof WebSocket;
  const nodeStyle = reportsUpgradeStatus(WebSocketImpl);
  return class InstrumentedWebSocket extends Base {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      observer.created(this);
      let settled = false;
      this.addEventListener('open', () => {
        settled = true;
        observer.opened(this);
      });
      this.addEventListener('error', () => {
        settled = true;
        observer.errored(this);
      });
      this.addEventListener('close', (event) => {
        // A socket that closes before it opened without an `error` first (Playwright's routed sockets do;
        // browsers and `ws` fire `error` then `close`) would leave tRPC's client waiting for `open` or
        // `error` forever, never retrying: give it the `error` a failed connection has.
        if (!settled && typeof this.dispatchEvent === 'function') {
          settled = true;
          this.dispatchEvent(new Event('error'));
        }
        observer.closed(this, event.code, event.reason);
      });
      if (nodeStyle) {
        const socket = this as unknown as NodeStyleSocket;
        // With a listener, `ws` leaves the refused handshake to us: read the reason, then terminate it,
        // which emits error + close.
        socket.on('unexpected-response', (_req, res) => {
          void readReason(res, refusalBodyTimeoutMs).then((detail) => {
            observer.refused(this, res.statusCode ?? 0, detail);
            socket.terminate();
          });
        });
      }
    }

    override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
      // Recorded after: a socket that throws has sent nothing. (One closing drops the frame silently: it
      // counts as sent, so a mutation in it reports an unknown outcome rather than being sent twice.)
      super.send(data);
      observer.sent(this, data);
    }
  };
}

/**
 * The reason in a refused upgrade's body: the `error` (or `message`) string of a JSON body, or short plain
 * text. Resolves `undefined` when there is none, or when the body does not end within `timeoutMs`.
 */
function readReason(res: RefusedResponse, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    let body = '';
    const done = () => {
      clearTimeout(timer);
      resolve(reasonOf(body));
    };
    const timer = setTimeout(done, timeoutMs);
    res.on('data', (chunk) => {
      if (body.length < MAX_REFUSAL_BODY_BYTES) body += String(chunk);
    });
    res.on('end', done);
    res.on('close', done);
    res.on('error', done);
  });
}

function reasonOf(body: string): string | undefined {
  const text = body.slice(0, MAX_REFUSAL_BODY_BYTES).trim();
  if (!text) return undefined;
  try {
    const parsed = JSON.parse(text) as { error?: unknown; message?: unknown };
    const reason = typeof parsed.error === 'string' ? parsed.error : parsed.message;
    return typeof reason === 'string' && reason ? reason : undefined;
  } catch {
    // Plain text (an HTML error page is no reason).
    return text.startsWith('<') ? undefined : text.slice(0, 200);
  }
}
