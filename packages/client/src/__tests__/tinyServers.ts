/**
 * Test fixtures: servers that misbehave on purpose, on 127.0.0.1 and a free port, each counting the
 * connection attempts it sees. They play what the real server cannot be made to do on demand (refuse
 * every upgrade with a given status, or refuse everything a client sends with the same close). Release
 * them with `close()` from `afterEach` (`track(...)`). Add a server here when a test needs another kind.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

export interface TinyServer {
  wsUrl: string;
  port: number;
  /** Upgrade requests (connection attempts) received so far. */
  readonly attempts: number;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * Listens on a free port and describes the server as a `TinyServer`; `close()` runs `release` (the server's
 * own sockets and WebSocket server) first.
 */
async function serveTiny(
  server: Server,
  attempts: () => number,
  release: () => void | Promise<void> = () => {},
): Promise<TinyServer> {
  const port = await listen(server);
  return {
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    port,
    get attempts() {
      return attempts();
    },
    async close() {
      await release();
      await closeServer(server);
    },
  };
}

/** Answers every upgrade with `status` and a JSON body `{"error": reason}`, as the real server refuses. */
export async function startRefusingServer(status: number, reason: string): Promise<TinyServer> {
  let attempts = 0;
  const server = createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (_req, socket) => {
    attempts++;
    const body = JSON.stringify({ error: reason });
    socket.end(
      `HTTP/1.1 ${status} Refused\r\nConnection: close\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  });
  return serveTiny(server, () => attempts);
}

/**
 * Accepts every connection, and closes it with `code` and `reason` as soon as the client sends its first
 * frame, after answering the first request of that frame successfully when `answerFirst` is set (a server
 * that accepts part of what it gets: the client must not count that as the same refusal again).
 */
export async function startClosingServer(
  code: number,
  reason: string,
  options: { answerFirst?: boolean } = {},
): Promise<TinyServer> {
  let attempts = 0;
  // Plain requests (the client's ticket exchange) get 404, as from a server without that route.
  const server = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket) => {
    attempts++;
    socket.once('message', (data) => {
      if (options.answerFirst) {
        const parsed = JSON.parse(String(data)) as { id: number } | { id: number }[];
        const first = Array.isArray(parsed) ? parsed[0] : parsed;
        socket.send(
          JSON.stringify({ id: first?.id, result: { type: 'data', data: { json: { ok: true } } } }),
        );
      }
      socket.close(code, reason);
    });
  });
  return serveTiny(
    server,
    () => attempts,
    async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  );
}

/** A port nothing listens on (taken from the OS, then released): connections to it are refused. */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await closeServer(server);
  return port;
}

/**
 * Accepts every upgrade request's TCP connection and never answers it (a hung instance, a middlebox that
 * holds the request). Plain HTTP requests get 404. `hang = false` lets later upgrades through to a real
 * WebSocket server.
 */
export async function startHangingServer(): Promise<TinyServer & { hang: boolean }> {
  let attempts = 0;
  const server = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ noServer: true });
  const state = { hang: true };
  const held = new Set<{ destroy(): void }>();
  server.on('upgrade', (req, socket, head) => {
    attempts++;
    if (state.hang) {
      held.add(socket);
      socket.on('close', () => held.delete(socket));
      return;
    }
    wss.handleUpgrade(req, socket, head, () => {});
  });
  const tiny = await serveTiny(
    server,
    () => attempts,
    () => {
      for (const socket of held) socket.destroy();
      for (const client of wss.clients) client.terminate();
      wss.close();
    },
  );
  return Object.defineProperty(tiny, 'hang', {
    get: () => state.hang,
    set: (value: boolean) => {
      state.hang = value;
    },
  }) as TinyServer & { hang: boolean };
}
