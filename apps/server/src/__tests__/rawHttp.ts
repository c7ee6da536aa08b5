/**
 * Test fixture: one HTTP/1.1 request written byte for byte on a `node:net` socket. `fetch` and `http.request`
 * normalise or refuse malformed request targets (`//`, `http://[/`, `%E0%A4%A`), so they never reach the server
 * as a hostile client sends them; this does. Extend `RawRequest` when a test needs more of the wire.
 */
import { connect } from 'node:net';

export interface RawRequest {
  method: string;
  /** The request target exactly as sent, e.g. `/chat/%E0%A4%A` or `http://[/`. */
  target: string;
  /** Header lines in order; a name may repeat. */
  headers: readonly (readonly [string, string])[];
  body?: string;
}

export interface RawResponse {
  /** Status code of the answer's status line. */
  status: number;
  /** Status line and headers, without the blank line. */
  head: string;
  /** Whatever arrived after the header block before the socket ended (or was cut, after a 101). */
  body: string;
}

/** Serialises a request as it goes on the wire; `Content-Length` is added when there is a body. */
export function serializeRequest(request: RawRequest): Buffer {
  const lines = [`${request.method} ${request.target} HTTP/1.1`];
  for (const [name, value] of request.headers) lines.push(`${name}: ${value}`);
  const body = Buffer.from(request.body ?? '', 'utf8');
  if (request.body !== undefined) lines.push(`Content-Length: ${body.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body]);
}

/**
 * Sends the request and resolves with the answer once the server ended the connection, its Content-Length
 * arrived, or (for a 101) the header block arrived. Rejects when no complete status line and header block arrives within
 * `timeoutMs`, or when the connection ends before one did: both mean "no well-formed answer".
 */
export function sendRaw(port: number, request: RawRequest | Buffer, timeoutMs = 3000): Promise<RawResponse> {
  const bytes = Buffer.isBuffer(request) ? request : serializeRequest(request);
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let settled = false;
    const timer = setTimeout(() => finish(new Error(`no complete answer within ${timeoutMs} ms`)), timeoutMs);
    function parse(): RawResponse | undefined {
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return undefined;
      const head = received.subarray(0, end).toString('latin1');
      const match = /^HTTP\/1\.[01] (\d{3}) /.exec(head);
      if (!match) return undefined;
      return { status: Number(match[1]), head, body: received.subarray(end + 4).toString('utf8') };
    }
    function finish(error?: Error) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const response = parse();
      if (response) resolve(response);
      else
        reject(
          error ??
            new Error(
              `connection ended without a well-formed answer: ${JSON.stringify(received.toString('latin1'))}`,
            ),
        );
    }
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      const response = parse();
      if (!response) return;
      // A switched or kept-alive connection stays open: stop at the end of the answer.
      const length = /\r\ncontent-length: *(\d+)/i.exec(response.head);
      if (response.status === 101 || (length && Buffer.byteLength(response.body) >= Number(length[1])))
        finish();
    });
    socket.on('end', () => finish());
    socket.on('close', () => finish());
    // A reset after the answer is fine (the server closed while we still wrote); without one it is a failure.
    socket.on('error', (error) => finish(error));
    socket.write(bytes);
  });
}
