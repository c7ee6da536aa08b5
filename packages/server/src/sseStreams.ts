import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { AuthUser } from './auth.ts';
import { newConnectionId } from './connectionId.ts';
import type { ServerStats } from './metrics.ts';
import { SseControlEvent, sseControlChunk, sseHeaders } from './sseFrames.ts';

/**
 * One open Server-Sent Events response: the HTTP transport's counterpart of a WebSocket connection for one
 * subscription. It is a fan-out sink (`sendFrame`) and a presence holder (`id`, `user`; an SSE stream has no
 * `setPresence`, so it joins without metadata).
 */
export interface SseStream {
  readonly id: string;
  readonly user: AuthUser;
  /** Writes a ready-made chunk shared with other streams; false (and the stream ends) for a slow consumer. */
  sendFrame(chunk: Buffer): boolean;
  /** Writes a control event or an app subscription's chunk. */
  write(text: string): boolean;
  /** Ends the response (the client's EventSource reconnects unless it was told `return`). Idempotent. */
  end(): void;
  /** Runs once when the response ends, whichever side ended it. */
  onEnd(listener: () => void): void;
}

/** Every open SSE stream of this instance, by user: counted against the same limits as WebSockets. */
export interface SseStreams {
  /** Writes the SSE headers and the `connected` event, and registers the stream until it ends. */
  open(res: ServerResponse, user: AuthUser): SseStream;
  countByUser(userId: string): number;
  readonly size: number;
  /** Ends every stream (graceful shutdown: the clients reconnect, to another instance). */
  endAll(): void;
  /** Stops the ping timer. */
  stop(): void;
}

export interface SseStreamsOptions {
  /** Bytes waiting in a response's buffer beyond which the stream is ended (the client resumes from history). */
  slowConsumerBytes: number;
  /** Interval of the `ping` event, in ms. */
  ssePingIntervalMs: number;
  stats: ServerStats;
  logger: Logger;
  /** Called each ping round with the ids of the streams still open (presence refresh, as the heartbeat does). */
  onAlive(streamIds: string[]): void;
}

/**
 * The SSE streams of one server. One timer for all of them sends `ping` (so proxies keep an idle stream open
 * and a dead peer is found by a failed write) and refreshes their presence entries; a stream whose token
 * expires is ended then, so its client must come back with a valid credential.
 */
export function createSseStreams(options: SseStreamsOptions): SseStreams {
  const streams = new Set<LiveSseStream>();
  const users = new Map<string, number>();
  const ping = Buffer.from(sseControlChunk(SseControlEvent.PING));
  const timer = setInterval(() => {
    const alive: string[] = [];
    for (const stream of streams) if (stream.sendFrame(ping)) alive.push(stream.id);
    if (alive.length > 0) options.onAlive(alive);
  }, options.ssePingIntervalMs);
  timer.unref();

  function release(stream: LiveSseStream) {
    if (!streams.delete(stream)) return;
    const count = (users.get(stream.user.userId) ?? 1) - 1;
    if (count === 0) users.delete(stream.user.userId);
    else users.set(stream.user.userId, count);
  }

  return {
    open(res, user) {
      const stream = new LiveSseStream(res, user, options);
      streams.add(stream);
      users.set(user.userId, (users.get(user.userId) ?? 0) + 1);
      stream.onEnd(() => release(stream));
      // What the client should do if the stream goes silent: tRPC's `reconnectAfterInactivityMs`, three pings.
      stream.write(
        sseControlChunk(
          SseControlEvent.CONNECTED,
          JSON.stringify({ reconnectAfterInactivityMs: options.ssePingIntervalMs * 3 }),
        ),
      );
      return stream;
    },
    countByUser: (userId) => users.get(userId) ?? 0,
    get size() {
      return streams.size;
    },
    endAll() {
      for (const stream of [...streams]) stream.end();
    },
    stop: () => clearInterval(timer),
  };
}

/** A class so its methods are shared by every stream, as `LiveConnection` does for sockets. */
class LiveSseStream implements SseStream {
  readonly id = newConnectionId();
  private ended = false;
  private readonly listeners: Array<() => void> = [];
  private expiryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly res: ServerResponse,
    readonly user: AuthUser,
    private readonly options: SseStreamsOptions,
  ) {
    res.writeHead(200, sseHeaders);
    // Headers now, not with the first event: the client's `connected` comes before history is read.
    res.flushHeaders();
    res.on('close', () => this.finish());
    if (user.expiresAt !== undefined) {
      const timer = setTimeout(() => this.end(), Math.max(0, user.expiresAt - Date.now()));
      timer.unref();
      this.expiryTimer = timer;
    }
  }

  sendFrame(chunk: Buffer): boolean {
    return this.writeChunk(chunk);
  }

  write(text: string): boolean {
    return this.writeChunk(text);
  }

  end(): void {
    if (this.ended) return;
    this.res.end();
    this.finish();
  }

  onEnd(listener: () => void): void {
    if (this.ended) listener();
    else this.listeners.push(listener);
  }

  /** Every chunk passes here, so the slow-consumer check lives in one place (as `writable()` for sockets). */
  private writeChunk(chunk: Buffer | string): boolean {
    if (this.ended || this.res.destroyed) return false;
    if (this.res.writableLength > this.options.slowConsumerBytes) {
      this.options.logger.warn(
        { streamId: this.id, userId: this.user.userId, buffered: this.res.writableLength },
        'slow consumer: ending SSE stream',
      );
      // Destroyed, not ended: `end()` would wait for the megabyte already queued. The EventSource reconnects
      // with its Last-Event-ID and resumes from history, as a WebSocket client does after 1013.
      this.res.destroy();
      this.finish();
      return false;
    }
    this.res.write(chunk);
    this.options.stats.messagesSent++;
    return true;
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.expiryTimer);
    for (const listener of this.listeners.splice(0)) listener();
  }
}
