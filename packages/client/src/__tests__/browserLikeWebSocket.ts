/**
 * A WebSocket with only the browser's surface, backed by the `ws` package: no `on()` and no
 * `unexpected-response`, so a refused upgrade is just `error` + `close` 1006, as in a browser. Lets Node
 * tests drive the client's browser path (asking the auth check endpoint why). Add members when the
 * client starts using more of the WebSocket API.
 */
import WebSocket from 'ws';

export class BrowserLikeWebSocket extends EventTarget {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  binaryType = 'arraybuffer';
  readonly #socket: WebSocket;

  constructor(url: string | URL, protocols?: string | string[]) {
    super();
    this.#socket = new WebSocket(url, protocols);
    this.#socket.on('open', () => this.dispatchEvent(new Event('open')));
    this.#socket.on('message', (data, isBinary) =>
      this.dispatchEvent(new MessageEvent('message', { data: isBinary ? data : data.toString() })),
    );
    this.#socket.on('error', () => this.dispatchEvent(new Event('error')));
    this.#socket.on('close', (code, reason) => {
      const event = new Event('close');
      Object.defineProperties(event, { code: { value: code }, reason: { value: reason.toString() } });
      this.dispatchEvent(event);
    });
  }

  get readyState(): number {
    return this.#socket.readyState;
  }

  send(data: string): void {
    this.#socket.send(data);
  }

  close(code?: number, reason?: string): void {
    this.#socket.close(code, reason);
  }
}
