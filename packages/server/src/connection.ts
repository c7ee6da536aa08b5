import { CloseCode, type PresenceMeta, type SwitchboardError } from '@switchboard/protocol';
import type { AnyTRPCRouter } from '@trpc/server';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { AuthUser } from './auth.ts';
import { ConnectionChannels, type ConnectionChannelsDeps } from './connectionChannels.ts';
import { newConnectionId } from './connectionId.ts';
import { closeWithError, connectionErrors } from './errors.ts';
import type { Fanout } from './fanout.ts';
import { writeFrame, writeText } from './frameWriter.ts';
import { MessageRate } from './limits.ts';
import type { ServerStats } from './metrics.ts';
import type { ResolvedServerOptions } from './options.ts';
import type { Presence } from './presence.ts';
import type { Connection } from './registry.ts';
import { RequestDispatcher } from './requestDispatch.ts';
import type { SwitchboardServices } from './router.ts';

export interface ConnectionDeps {
  router: AnyTRPCRouter;
  fanout: Fanout;
  presence: Presence;
  stats: ServerStats;
  logger: Logger;
  options: ResolvedServerOptions;
  services: SwitchboardServices;
  onClosed(connection: Connection, code: number, reason: string): void;
}

/** What every connection of one server shares: built once, so a connection keeps one reference to it. */
interface SharedDeps extends ConnectionDeps {
  dispatcher: RequestDispatcher;
  channels: ConnectionChannelsDeps;
}

/** Opens one authenticated WebSocket as a connection of this server (see `createConnectionHandler`). */
export type ConnectionHandler = (socket: WebSocket, user: AuthUser) => Connection;

/**
 * Serves the authenticated WebSockets of one server: each speaks tRPC's wire protocol (`requestDispatch.ts`)
 * within the per-connection limits, and its channel subscriptions go to the fan-out table
 * (`connectionChannels.ts`).
 */
export function createConnectionHandler(deps: ConnectionDeps): ConnectionHandler {
  const shared: SharedDeps = {
    ...deps,
    dispatcher: new RequestDispatcher(deps),
    channels: { fanout: deps.fanout, presence: deps.presence },
  };
  return (socket, user) => new LiveConnection(socket, user, shared);
}

/** How long a policy close waits for the answers of requests already being served, in ms. */
const ANSWER_GRACE_MS = 2_000;

/** The connection of a socket, set when it opens (ws keeps its own the same way, `socket[kWebSocket]`). */
const kConnection = Symbol('switchboard connection');
type ConnectedSocket = WebSocket & { [kConnection]: LiveConnection };

/**
 * One connection: its socket and what goes out on it, its rate limit, and what it holds. A class, and its
 * socket's listeners module functions that find it through the socket, so 10,000 idle connections carry no
 * copies of functions and no closures.
 */
export class LiveConnection implements Connection {
  readonly id = newConnectionId();
  readonly connectedAt = Date.now();
  lastSeenAt = this.connectedAt;
  /** Subscriptions, their channels and the order of requests per channel; created on first use. */
  channels: ConnectionChannels | undefined;
  /** Ids of queries and mutations being served (created on first use). */
  calls: Set<string | number> | undefined;
  closed = false;
  /** Set by a policy violation: nothing more the client sends is read, and the close waits for the answers. */
  refusing = false;
  /** Requests being served (until answered); a policy close waits for them (see `failAfterAnswers`). */
  private serving = 0;
  private closeWhenServed: (() => void) | undefined;
  private readonly rate: MessageRate;
  // Created on first use: most connections never log, and a pino child costs memory per connection.
  private childLogger: Logger | undefined;

  constructor(
    readonly socket: WebSocket,
    public user: AuthUser,
    private readonly shared: SharedDeps,
  ) {
    this.rate = new MessageRate(shared.options.rateLimitPerSecond, shared.options.rateLimitBurst);
    (socket as ConnectedSocket)[kConnection] = this;
    socket.on('message', socketOnMessage);
    socket.on('pong', socketOnPong);
    socket.on('close', socketOnClose);
    // Without an error listener an emitted socket error crashes the process (oversize frames, bad UTF-8...).
    socket.on('error', socketOnError);
  }

  /** This connection's channels, created now if it had none. */
  channelsHeld(): ConnectionChannels {
    this.channels ??= new ConnectionChannels(this, this.shared.channels);
    return this.channels;
  }

  isSubscribedTo(channel: string): boolean {
    return this.channels?.holds(channel) ?? false;
  }

  subscribedChannels(): Map<string, number> {
    return this.channels?.countsByChannel() ?? new Map();
  }

  get presenceMeta(): ReadonlyMap<string, PresenceMeta> | undefined {
    return this.channels?.presenceMeta;
  }

  setPresenceMeta(channel: string, meta: PresenceMeta): void {
    this.channels?.setPresenceMeta(channel, meta);
  }

  send(frame: string): boolean {
    if (!this.writable()) return false;
    writeText(this.socket, frame);
    this.shared.stats.messagesSent++;
    return true;
  }

  sendFrame(frame: Buffer): boolean {
    if (!this.writable()) return false;
    writeFrame(this.socket, frame);
    this.shared.stats.messagesSent++;
    return true;
  }

  dispose(): void {
    this.cleanup(CloseCode.GOING_AWAY, 'stale registry entry');
  }

  log(): Logger {
    this.childLogger ??= this.shared.logger.child({ connectionId: this.id, userId: this.user.userId });
    return this.childLogger;
  }

  /** Closes the connection now with the error's close code (a slow consumer, an internal error...). */
  fail(error: SwitchboardError): void {
    this.log().warn({ code: error.closeCode, reason: error.message }, 'policy violation: closing connection');
    closeWithError(this.socket, error);
  }

  /**
   * Closes the connection for a policy violation of the client's (too many subscriptions, a malformed or
   * flooding frame) once the calls it sent before are answered, within `ANSWER_GRACE_MS`; nothing it sends
   * from now on is read. Closing at once lost the answers of calls already served: a publish stored but never
   * acknowledged, which a client retrying without an idempotency key stores twice. Subscriptions stop now,
   * unanswered: a subscription started on a connection about to close is worth nothing, and a `started` in
   * the grace would tell `@switchboard/client` that the server accepted what it resends on every connection
   * (it stops after the same refusal twice with nothing accepted in between, found by a breaker).
   */
  failAfterAnswers(error: SwitchboardError): void {
    if (this.refusing) return;
    this.refusing = true;
    this.log().warn({ code: error.closeCode, reason: error.message }, 'policy violation: closing connection');
    this.channels?.stopAll();
    const close = () => closeWithError(this.socket, error);
    if (this.serving === 0) {
      close();
      return;
    }
    this.closeWhenServed = close;
    setTimeout(close, ANSWER_GRACE_MS).unref();
  }

  /** Counts a request as served until `pending` settles (see `failAfterAnswers`). */
  serve(pending: Promise<unknown>): void {
    this.serving++;
    const settled = () => {
      if (--this.serving === 0) this.closeWhenServed?.();
    };
    pending.then(settled, settled);
  }

  /**
   * Counts one inbound message against the rate limit. Returns whether a refusable message may proceed; a
   * client flooding while refused is closed with 1008 (see `MessageRate`).
   */
  admit(refusable: boolean): boolean {
    const admission = this.rate.admit(this.lastSeenAt);
    if (admission === 'admitted') return true;
    if (admission === 'flooding') {
      this.failAfterAnswers(connectionErrors.rateLimited());
      return false;
    }
    return !refusable;
  }

  /** Every frame to a client passes here, so the slow-consumer check lives in one place. */
  private writable(): boolean {
    const { socket } = this;
    if (socket.readyState !== socket.OPEN) return false;
    if (socket.bufferedAmount > this.shared.options.slowConsumerBytes) {
      this.fail(connectionErrors.slowConsumer());
      return false;
    }
    return true;
  }

  /**
   * The socket's message listener, and the connection's boundary: whatever a frame makes go wrong closes this
   * connection (1011) and is logged; it never reaches `ws`, which would emit it where nothing catches it and
   * end the process.
   */
  onMessage(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    try {
      this.shared.dispatcher.handleFrame(this, data, isBinary);
    } catch (err) {
      this.log().error({ err }, 'frame handling failed: closing connection');
      this.fail(connectionErrors.internal());
    }
  }

  onError(err: Error): void {
    if ((err as { code?: string }).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      this.log().warn({ code: CloseCode.MESSAGE_TOO_BIG }, 'policy violation: message too big');
    } else this.log().warn({ err }, 'socket error');
  }

  cleanup(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.channels?.stopAll();
    this.shared.onClosed(this, code, reason);
  }
}

function connectionOf(socket: WebSocket): LiveConnection {
  return (socket as ConnectedSocket)[kConnection];
}

function socketOnMessage(this: WebSocket, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) {
  connectionOf(this).onMessage(data, isBinary);
}

function socketOnPong(this: WebSocket) {
  connectionOf(this).lastSeenAt = Date.now();
}

function socketOnClose(this: WebSocket, code: number, reason: Buffer) {
  connectionOf(this).cleanup(code, reason.toString());
}

function socketOnError(this: WebSocket, err: Error) {
  connectionOf(this).onError(err);
}
