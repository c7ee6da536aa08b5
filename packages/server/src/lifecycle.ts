import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloseCode } from '@switchboard/protocol';
import type { Logger } from 'pino';
import { startExpirySweep } from './expiry.ts';
import { startHeartbeat } from './heartbeat.ts';
import { listenError } from './listenError.ts';
import type { ResolvedServerOptions } from './options.ts';
import type { ServerServices } from './serverServices.ts';
import { drainConnections } from './shutdown.ts';
import type { SseStreams } from './sseStreams.ts';
import type { WsTransport } from './wsTransport.ts';

/** After the drain, how long in-flight HTTP requests get before the remaining sockets are closed, in ms. */
const HTTP_CLOSE_GRACE_MS = 500;

export interface LifecycleDeps {
  httpServer: Server;
  options: ResolvedServerOptions;
  core: ServerServices;
  logger: Logger;
  sseStreams: SseStreams;
  ws: WsTransport;
}

/** The running state of one server: see `SwitchboardServer` for the contract of each member. */
export interface Lifecycle {
  /** True until `close()` starts. */
  readonly accepting: boolean;
  listen(port: number, host?: string): Promise<{ port: number; host: string }>;
  close(): Promise<void>;
}

/**
 * Starts the server's timers (heartbeat, token-expiry sweep, registry sweep) and owns `listen` and the
 * shutdown sequence: stop accepting and stop the timers, drain the WebSockets (`shutdown.ts`), end the SSE
 * streams, close the HTTP server (idle sockets after a short grace), then the WebSocket server and a broker
 * the server created. `close()` is idempotent: every call returns the same promise.
 */
export function startLifecycle(deps: LifecycleDeps): Lifecycle {
  const { httpServer, options, core, logger, sseStreams } = deps;
  const { registry, instanceId } = core;
  let accepting = true;
  let closing: Promise<void> | undefined;

  const heartbeat = startHeartbeat(registry, {
    heartbeatIntervalMs: options.heartbeatIntervalMs,
    heartbeatTimeoutMs: options.heartbeatTimeoutMs,
    onAlive: core.refreshPresence,
    onDead: (connection) =>
      logger.info(
        { connectionId: connection.id, userId: connection.user.userId },
        'heartbeat timeout: terminating',
      ),
  });
  const expiry = startExpirySweep(registry, options.tokenExpiryCheckIntervalMs, logger);
  const sweep = setInterval(() => {
    for (const stale of registry.sweep()) stale.dispose();
  }, options.registrySweepIntervalMs);
  sweep.unref();

  return {
    get accepting() {
      return accepting;
    },
    listen(port, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        const listenOnError = (error: NodeJS.ErrnoException) => reject(listenError(error, port, host));
        httpServer.once('error', listenOnError);
        httpServer.listen(port, host, () => {
          httpServer.off('error', listenOnError);
          const address = httpServer.address() as AddressInfo;
          logger.info({ port: address.port, host, instanceId }, 'listening');
          resolve({ port: address.port, host });
        });
      });
    },
    close() {
      closing ??= (async () => {
        accepting = false;
        heartbeat.stop();
        expiry.stop();
        clearInterval(sweep);
        await drainConnections(registry, options.drainTimeoutMs, logger);
        // SSE clients reconnect on their own when their stream ends, to another instance.
        sseStreams.stop();
        sseStreams.endAll();
        await new Promise<void>((resolve) => {
          httpServer.close(() => resolve());
          // `close()` ends idle keep-alive sockets but waits for one that never sent a request (EventSource
          // clients and browsers open those ahead) until its timeout: those get a short grace, then go.
          setTimeout(() => httpServer.closeAllConnections(), HTTP_CLOSE_GRACE_MS).unref();
        });
        deps.ws.close();
        if (core.ownsBroker) await core.broker.close();
        logger.info({ instanceId, code: CloseCode.GOING_AWAY }, 'server closed');
      })();
      return closing;
    },
  };
}
