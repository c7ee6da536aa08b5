/**
 * Test fixture: an HTTP proxy on 127.0.0.1 and a free port in front of a server, which plays a network that
 * drops WebSockets (a corporate proxy, some mobile networks) while plain HTTP, Server-Sent Events included,
 * gets through. While `blockUpgrades` is set, every upgrade request's socket is destroyed before any answer
 * (the client sees a failed connection, no HTTP status); otherwise upgrades are piped to the server. When
 * the server is down, requests are dropped the same way (no 502), as a network would. Release it with
 * `close()` from `afterEach`. Add a switch here when a test needs another kind of network.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect, type Socket } from 'node:net';

export interface UpgradeBlockingProxy {
  port: number;
  wsUrl: string;
  /** Destroy upgrade requests (true) or pass them on (false). */
  blockUpgrades: boolean;
  /** Upgrade requests destroyed so far. */
  readonly blockedUpgrades: number;
  close(): Promise<void>;
}

export async function startUpgradeBlockingProxy(targetPort: number): Promise<UpgradeBlockingProxy> {
  let blockedUpgrades = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const upstream = request(
      { host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        // Streams (SSE) must reach the client as they come.
        res.flushHeaders();
        answer.pipe(res);
        answer.on('error', () => res.destroy());
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (req, socket, head) => {
    if (proxy.blockUpgrades) {
      blockedUpgrades++;
      socket.destroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1', () => {
      const headers = Object.entries(req.headers)
        .flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).map((v) => `${name}: ${v}`))
        .join('\r\n');
      upstream.write(`${req.method} ${req.url} HTTP/1.1\r\n${headers}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => {
      sockets.delete(upstream);
      socket.destroy();
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
    socket.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const proxy: UpgradeBlockingProxy = {
    port,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    blockUpgrades: true,
    get blockedUpgrades() {
      return blockedUpgrades;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
