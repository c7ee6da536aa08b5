import type { WebSocketConstructor } from './options.ts';

/** What the connection learns from each socket it creates. */
export interface SocketObserver {
  created(socket: object): void;
  opened(socket: object): void;
  /** The server answered the upgrade with this HTTP status instead of switching protocols (Node only). */
  refused(socket: object, status: number): void;
  closed(socket: object, code: number, reason: string): void;
}

interface NodeStyleSocket {
  on(event: 'unexpected-response', listener: (req: unknown, res: { statusCode?: number }) => void): void;
  terminate(): void;
}

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
): typeof WebSocket {
  const Base = WebSocketImpl as unknown as typeof WebSocket;
  const nodeStyle = reportsUpgradeStatus(WebSocketImpl);
  return class InstrumentedWebSocket extends Base {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      observer.created(this);
      this.addEventListener('open', () => observer.opened(this));
      this.addEventListener('close', (event) => observer.closed(this, event.code, event.reason));
      if (nodeStyle) {
        const socket = this as unknown as NodeStyleSocket;
        // With a listener, `ws` leaves the refused handshake to us: terminate it, which emits error + close.
        socket.on('unexpected-response', (_req, res) => {
          observer.refused(this, res.statusCode ?? 0);
          socket.terminate();
        });
      }
    }
  };
}
