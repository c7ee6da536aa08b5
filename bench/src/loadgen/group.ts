import { type ClientRequest, request } from 'node:http';
import { WebSocket } from 'ws';
import { BENCH_SECRET } from '../config.ts';
import { wallNow } from '../ipc.ts';
import { channelName, payloadJson, readPublishedAt, type SystemKind, signToken } from '../wire.ts';
import { fullJitterDelayMs } from './backoff.ts';
import { rawFrames, socketIoFrames, sseFrames, trpcDataResultId, trpcFrames } from './protocols.ts';
import { peakPerWindow, percentile } from './samples.ts';

/**
 * A set of subscriber sockets against one system (one or two server instances) plus one publisher socket.
 * The hot path (`onFrame` for a live subscriber) counts the frame and, while a latency run records, reads
 * the publish time out of it; nothing else is parsed, so the generator costs about what the server does.
 */
export interface GroupSpec {
  key: string;
  kind: SystemKind;
  /** Subscribers are spread over these ports round-robin; the publisher uses the first. */
  ports: number[];
  count: number;
  channels: number;
  /** Follow tRPC resume ids and reconnect with full-jitter backoff (reconnect storm). */
  storm?: boolean;
}

const State = { connecting: 0, handshake: 1, live: 2, closed: 3 } as const;
type State = (typeof State)[keyof typeof State];

/** The subscription id `@trpc/client` gives the first operation on a fresh client. */
const SUBSCRIPTION_ID = 1;
/** Socket.IO client ack ids start at 0. */
const JOIN_ACK_ID = 0;

interface Client {
  readonly index: number;
  readonly channel: string;
  readonly port: number;
  ws: WebSocket | undefined;
  /** The SSE stream's request (`sse` groups), instead of `ws`. */
  sse: ClientRequest | undefined;
  /** The last bytes of the previous SSE chunk: an event marker can straddle two reads. */
  sseCarry: string;
  state: State;
  attempt: number;
  /** Signed on the first connect, kept for reconnects. */
  token: string | undefined;
  lastError: string | undefined;
  /** tRPC resume position (`lastEventId`), tracked only in storm groups. */
  lastEventId: string | undefined;
  /** A resubscribe carried `lastEventId`; done once the server answered it ($gap or history). */
  awaitingResume: boolean;
  done: boolean;
  onLive: ((error?: Error) => void) | undefined;
}

export interface BurstResult {
  expected: number;
  delivered: number;
  /** First publish sent → last delivery received, in ms. */
  elapsedMs: number;
  deliveriesPerSec: number;
  complete: boolean;
  publishErrors: number;
}

export interface RateResult {
  publishesPerSecond: number;
  expected: number;
  delivered: number;
  complete: boolean;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  /** p50 of events published in the first and last quarter of the run: a growing backlog shows here. */
  firstQuarterP50Ms: number;
  lastQuarterP50Ms: number;
  /** Achieved publish rate (timers slip when the generator is busy). */
  sentPerSecond: number;
  publishErrors: number;
}

export interface StormResult {
  clients: number;
  done: number;
  attempts: number;
  failedAttempts: number;
  firstOpenAt: number;
  lastOpenAt: number;
  lastDoneAt: number;
  peakOpensPerSec: number;
  gapsReceived: number;
}

export class Group {
  readonly clients: Client[] = [];
  private publisher: WebSocket | undefined;
  private publisherReady: Promise<void> | undefined;
  private publishId = 1;
  private publishErrors = 0;
  private firstPublishError: string | undefined;
  private seq = 0;

  private delivered = 0;
  private target = Number.POSITIVE_INFINITY;
  private onTarget: (() => void) | undefined;
  private lastAt = 0;
  private lastFrameAt = 0;

  private recording = false;
  private latencies = new Float64Array(0);
  private publishedAts = new Float64Array(0);
  private recorded = 0;

  private reconnect = false;
  private opens: number[] = [];
  private attempts = 0;
  private failedAttempts = 0;
  private doneCount = 0;
  private lastDoneAt = 0;
  private gaps = 0;
  private onAllDone: (() => void) | undefined;

  constructor(readonly spec: GroupSpec) {
    for (let index = 0; index < spec.count; index++) {
      this.clients.push({
        index,
        channel: channelName(index % spec.channels),
        port: spec.ports[index % spec.ports.length]!,
        ws: undefined,
        sse: undefined,
        sseCarry: '',
        state: State.closed,
        attempt: 0,
        token: undefined,
        lastError: undefined,
        lastEventId: undefined,
        awaitingResume: false,
        done: false,
        onLive: undefined,
      });
    }
  }

  // ---- connections ----------------------------------------------------------------------------

  private url(port: number): string {
    return this.spec.kind === 'sio'
      ? `ws://127.0.0.1:${port}${socketIoFrames.path}`
      : `ws://127.0.0.1:${port}/ws`;
  }

  /**
   * A client's credentials. Each subscriber signs its token once and presents the same one on every
   * reconnect, as a signed-in user's client does (`getToken()` returns the token it holds).
   */
  private headers(userId: string, client?: Client): Record<string, string> | undefined {
    if (this.spec.kind !== 'sb' && this.spec.kind !== 'sse') return undefined;
    const token = client
      ? (client.token ??= signToken(BENCH_SECRET, userId))
      : signToken(BENCH_SECRET, userId);
    return { authorization: `Bearer ${token}` };
  }

  private open(client: Client): void {
    this.attempts++;
    client.state = State.connecting;
    if (this.spec.kind === 'sse') {
      this.openSse(client);
      return;
    }
    const ws = new WebSocket(this.url(client.port), {
      perMessageDeflate: false,
      skipUTF8Validation: true,
      headers: this.headers(`u${client.index}`, client),
    });
    client.ws = ws;
    ws.on('open', () => {
      if (this.reconnect) this.opens.push(wallNow());
      client.state = State.handshake;
      if (this.spec.kind === 'raw' || this.spec.kind === 'pre') ws.send(rawFrames.subscribe(client.channel));
      else if (this.spec.kind === 'sb') {
        client.awaitingResume = client.lastEventId !== undefined;
        ws.send(trpcFrames.subscribe(SUBSCRIPTION_ID, client.channel, client.lastEventId));
      }
      // Socket.IO: the server speaks first (Engine.IO open packet).
    });
    ws.on('message', (data) => this.onFrame(client, data as Buffer));
    ws.on('error', (error) => {
      client.lastError = error.message;
    });
    ws.on('close', () => this.onClose(client, ws));
  }

  /**
   * An SSE subscriber as `httpSubscriptionLink` opens it (`GET /trpc/channel.subscribe?input=`), with the
   * token in the Authorization header (the server's first choice; browsers' EventSource uses a ticket
   * instead), one TCP connection per stream. Subscribed once the `$live` notice arrives.
   */
  private openSse(client: Client): void {
    const req = request({
      host: '127.0.0.1',
      port: client.port,
      path: sseFrames.subscribePath(client.channel),
      headers: { ...this.headers(`u${client.index}`, client), accept: 'text/event-stream' },
      agent: false,
    });
    client.sse = req;
    client.sseCarry = '';
    req.on('response', (res) => {
      if (res.statusCode !== 200) {
        client.lastError = `HTTP ${res.statusCode}`;
        req.destroy();
        return;
      }
      client.state = State.handshake;
      res.on('data', (chunk: Buffer) => this.onSseChunk(client, chunk));
    });
    req.on('error', (error) => {
      client.lastError = error.message;
    });
    req.on('close', () => this.onClose(client, req));
    req.end();
  }

  private onSseChunk(client: Client, chunk: Buffer): void {
    const now = performance.now();
    this.lastFrameAt = now;
    const text = chunk.toString('latin1');
    if (client.state !== State.live) {
      if (text.includes(sseFrames.live)) this.becomeLive(client);
      else if (text.includes(sseFrames.error)) {
        client.lastError = text.slice(0, 300);
        client.sse?.destroy();
      }
      client.sseCarry = text.slice(-sseFrames.carryChars);
      return;
    }
    // One read may hold several events (the server corks a tick's writes), or end inside one.
    let events = 0;
    for (let at = text.indexOf(sseFrames.event); at >= 0; at = text.indexOf(sseFrames.event, at + 1))
      events++;
    const seam = client.sseCarry + text.slice(0, sseFrames.carryChars);
    const straddling = seam.indexOf(sseFrames.event);
    if (straddling >= 0 && straddling < client.sseCarry.length) events++;
    client.sseCarry = (client.sseCarry + text).slice(-sseFrames.carryChars);
    if (events === 0) return;
    this.delivered += events;
    this.lastAt = now;
    if (this.recording) this.record(chunk, now);
    if (this.delivered >= this.target) this.onTarget?.();
  }

  private onClose(client: Client, ws: WebSocket | ClientRequest): void {
    if (client.ws !== ws && client.sse !== ws) return;
    if (client.state !== State.live) this.failedAttempts++;
    client.state = State.closed;
    const waiter = client.onLive;
    client.onLive = undefined;
    waiter?.(new Error(client.lastError ?? 'closed before subscribed'));
    if (!this.reconnect) return;
    const delay = fullJitterDelayMs(client.attempt++);
    setTimeout(() => {
      if (this.reconnect && client.state === State.closed) this.open(client);
    }, delay).unref();
  }

  private becomeLive(client: Client): void {
    client.state = State.live;
    client.attempt = 0;
    const waiter = client.onLive;
    client.onLive = undefined;
    waiter?.();
    if (this.reconnect && !client.awaitingResume) this.markDone(client);
  }

  private markDone(client: Client): void {
    if (client.done) return;
    client.done = true;
    this.doneCount++;
    this.lastDoneAt = wallNow();
    if (this.doneCount === this.clients.length) this.onAllDone?.();
  }

  private onFrame(client: Client, data: Buffer): void {
    const now = performance.now();
    this.lastFrameAt = now;
    if (client.state === State.live) {
      if (this.spec.kind === 'sio' && data.length === 1) {
        if (data[0] === 0x32) client.ws!.send(socketIoFrames.pong);
        return;
      }
      if (this.spec.storm && this.spec.kind === 'sb') this.followResume(client, data);
      this.delivered++;
      this.lastAt = now;
      if (this.recording) this.record(data, now);
      if (this.delivered === this.target) this.onTarget?.();
      return;
    }
    this.handshake(client, data);
  }

  private handshake(client: Client, data: Buffer): void {
    const text = data.toString();
    const ws = client.ws!;
    switch (this.spec.kind) {
      case 'raw':
      case 'pre':
        if (rawFrames.subscribed(text)) this.becomeLive(client);
        return;
      case 'sio':
        if (text === socketIoFrames.ping) ws.send(socketIoFrames.pong);
        else if (text.startsWith('0{')) ws.send(socketIoFrames.connect);
        else if (text.startsWith('40')) ws.send(socketIoFrames.join(JOIN_ACK_ID, client.channel));
        else if (text.startsWith(`43${JOIN_ACK_ID}`)) this.becomeLive(client);
        return;
      case 'sb':
        if (text === trpcFrames.started(SUBSCRIPTION_ID)) this.becomeLive(client);
        // The server answers a resume (history or `$gap`) before `started`.
        else if (this.spec.storm && text.includes('"result":{"type":"data"')) this.followResume(client, data);
        else if (text.includes('"error"')) {
          client.lastError = text.slice(0, 300);
          ws.close();
        }
        return;
    }
  }

  /** What `@trpc/client` does with every data frame: remember `result.id` (or forget it) as the resume id. */
  private followResume(client: Client, data: Buffer): void {
    const text = data.toString();
    const { isData, id } = trpcDataResultId(text);
    if (!isData) return;
    client.lastEventId = id;
    if (client.awaitingResume) {
      if (text.includes('"type":"$gap"')) this.gaps++;
      client.awaitingResume = false;
      // Before `started`, becoming live marks it done.
      if (this.reconnect && client.state === State.live) this.markDone(client);
    }
  }

  private record(data: Buffer, now: number): void {
    const publishedAt = readPublishedAt(data);
    if (Number.isNaN(publishedAt) || this.recorded >= this.latencies.length) return;
    this.latencies[this.recorded] = now - publishedAt;
    this.publishedAts[this.recorded] = publishedAt;
    this.recorded++;
  }

  /** Opens every subscriber (at most `concurrency` handshakes at a time) and waits until all are subscribed. */
  async connect(concurrency: number, timeoutMs: number): Promise<{ connected: number; elapsedMs: number }> {
    const started = performance.now();
    let next = 0;
    let inFlight = 0;
    let connected = 0;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `${this.spec.key}: ${connected}/${this.clients.length} subscribed after ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
      const launch = () => {
        while (inFlight < concurrency && next < this.clients.length) {
          const client = this.clients[next++]!;
          inFlight++;
          client.onLive = (error) => {
            inFlight--;
            if (error) {
              clearTimeout(timer);
              reject(new Error(`${this.spec.key}: client ${client.index} failed: ${error.message}`));
              return;
            }
            connected++;
            if (connected === this.clients.length) {
              clearTimeout(timer);
              resolve();
            } else launch();
          };
          this.open(client);
        }
      };
      launch();
    });
    return { connected, elapsedMs: performance.now() - started };
  }

  /** Resolves once no subscriber has received a frame for `quietMs` (presence storms after joins). */
  async quiesce(quietMs: number, timeoutMs: number): Promise<{ waitedMs: number }> {
    const started = performance.now();
    while (performance.now() - this.lastFrameAt < quietMs) {
      if (performance.now() - started > timeoutMs)
        throw new Error(`${this.spec.key}: still receiving after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, quietMs / 4));
    }
    return { waitedMs: performance.now() - started };
  }

  async close(timeoutMs: number): Promise<void> {
    this.reconnect = false;
    const closing: Promise<void>[] = [];
    for (const socket of [...this.clients.map((c) => c.ws), this.publisher]) {
      if (!socket || socket.readyState === WebSocket.CLOSED) continue;
      closing.push(new Promise((resolve) => socket.once('close', () => resolve())));
      socket.terminate();
    }
    for (const { sse } of this.clients) {
      if (!sse || sse.destroyed) continue;
      closing.push(new Promise((resolve) => sse.once('close', () => resolve())));
      sse.destroy();
    }
    await Promise.race([Promise.all(closing), new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
  }

  // ---- publishing -----------------------------------------------------------------------------

  private ensurePublisher(): Promise<void> {
    if (this.publisher?.readyState === WebSocket.OPEN && this.publisherReady) return this.publisherReady;
    const ws = new WebSocket(this.url(this.spec.ports[0]!), {
      perMessageDeflate: false,
      skipUTF8Validation: true,
      headers: this.headers('publisher'),
    });
    this.publisher = ws;
    this.publisherReady = new Promise<void>((resolve, reject) => {
      ws.once('error', reject);
      ws.once('close', () => reject(new Error('publisher closed before ready')));
      if (this.spec.kind !== 'sio') ws.once('open', () => resolve());
      ws.on('message', (data) => {
        const text = (data as Buffer).toString();
        if (this.spec.kind === 'sio') {
          if (text === socketIoFrames.ping) ws.send(socketIoFrames.pong);
          else if (text.startsWith('0{')) ws.send(socketIoFrames.connect);
          else if (text.startsWith('40')) resolve();
        } else if (text.includes('"error"')) {
          this.publishErrors++;
          this.firstPublishError ??= text.slice(0, 300);
        }
      });
    });
    return this.publisherReady;
  }

  private publishFrame(channel: string): string {
    const payload = payloadJson(++this.seq, performance.now());
    switch (this.spec.kind) {
      case 'raw':
      case 'pre':
        return rawFrames.publish(channel, payload);
      case 'sio':
        return socketIoFrames.publish(channel, payload);
      case 'sb':
      case 'sse':
        return trpcFrames.publish(this.publishId++, channel, payload);
    }
  }

  private subscribersOf(channels: number): number {
    // Clients are spread round-robin, so the first `channels` channels hold this many subscribers.
    let total = 0;
    for (const client of this.clients) if (Number(client.channel.slice('bench:c'.length)) < channels) total++;
    return total;
  }

  private waitForTarget(timeoutMs: number): Promise<boolean> {
    if (this.delivered >= this.target) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.onTarget = undefined;
        resolve(false);
      }, timeoutMs);
      this.onTarget = () => {
        clearTimeout(timer);
        this.onTarget = undefined;
        resolve(true);
      };
    });
  }

  private resetCounters(expected: number): void {
    this.delivered = 0;
    this.target = expected;
    this.publishErrors = 0;
    this.firstPublishError = undefined;
  }

  /** Publishes `eventsPerChannel` events to each of the first `channels` channels back to back. */
  async burst(channels: number, eventsPerChannel: number, timeoutMs: number): Promise<BurstResult> {
    await this.ensurePublisher();
    const expected = this.subscribersOf(channels) * eventsPerChannel;
    this.resetCounters(expected);
    const publisher = this.publisher!;
    const started = performance.now();
    for (let round = 0; round < eventsPerChannel; round++) {
      for (let channel = 0; channel < channels; channel++)
        publisher.send(this.publishFrame(channelName(channel)));
    }
    const complete = await this.waitForTarget(timeoutMs);
    const elapsedMs = this.lastAt - started;
    this.target = Number.POSITIVE_INFINITY;
    if (this.publishErrors > 0) throw new Error(`publish failed: ${this.firstPublishError}`);
    return {
      expected,
      delivered: this.delivered,
      elapsedMs,
      deliveriesPerSec: (this.delivered / elapsedMs) * 1000,
      complete,
      publishErrors: this.publishErrors,
    };
  }

  /**
   * Arms the delivery counter for events the server publishes on its own (the unbatched scenario): call
   * before the server starts, then `awaitDeliveries`.
   */
  expectDeliveries(channels: number, eventsPerChannel: number): { expected: number } {
    const expected = this.subscribersOf(channels) * eventsPerChannel;
    this.resetCounters(expected);
    return { expected };
  }

  /** Waits for what `expectDeliveries` armed; `lastAt` is the last delivery's wall-clock time. */
  async awaitDeliveries(timeoutMs: number) {
    const expected = this.target;
    const complete = await this.waitForTarget(timeoutMs);
    this.target = Number.POSITIVE_INFINITY;
    return {
      expected,
      delivered: this.delivered,
      complete,
      lastAt: performance.timeOrigin + this.lastAt,
    };
  }

  /**
   * Publishes to channel 0 at a fixed rate for `durationMs`, then waits up to `graceMs` for the rest, and
   * reports publish→receive latency (the generator's clock on both ends).
   */
  async rate(publishesPerSecond: number, durationMs: number, graceMs: number): Promise<RateResult> {
    await this.ensurePublisher();
    const total = Math.max(1, Math.round((publishesPerSecond * durationMs) / 1000));
    const expected = this.subscribersOf(1) * total;
    this.resetCounters(expected);
    this.latencies = new Float64Array(expected);
    this.publishedAts = new Float64Array(expected);
    this.recorded = 0;
    this.recording = true;
    const publisher = this.publisher!;
    const started = performance.now();
    let sent = 0;
    await new Promise<void>((resolve) => {
      const tick = () => {
        const due = Math.min(
          total,
          Math.floor(((performance.now() - started) * publishesPerSecond) / 1000) + 1,
        );
        while (sent < due) {
          publisher.send(this.publishFrame(channelName(0)));
          sent++;
        }
        if (sent >= total) {
          clearInterval(timer);
          resolve();
        }
      };
      const timer = setInterval(tick, 1);
      tick();
    });
    const sendingMs = performance.now() - started;
    const complete = await this.waitForTarget(graceMs);
    this.recording = false;
    this.target = Number.POSITIVE_INFINITY;
    if (this.publishErrors > 0) throw new Error(`publish failed: ${this.firstPublishError}`);

    const n = this.recorded;
    const sorted = this.latencies.slice(0, n).sort();
    const quarter = (from: number, to: number) => {
      const span = sendingMs;
      const values: number[] = [];
      for (let i = 0; i < n; i++) {
        const at = this.publishedAts[i]! - started;
        if (at >= from * span && at < to * span) values.push(this.latencies[i]!);
      }
      values.sort((a, b) => a - b);
      return percentile(values, 50);
    };
    return {
      publishesPerSecond,
      expected,
      delivered: this.delivered,
      complete,
      p50Ms: percentile(sorted, 50),
      p95Ms: percentile(sorted, 95),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted[n - 1] ?? Number.NaN,
      firstQuarterP50Ms: quarter(0, 0.25),
      lastQuarterP50Ms: quarter(0.75, 1.01),
      sentPerSecond: (total / Math.max(1, sendingMs)) * 1000,
      publishErrors: this.publishErrors,
    };
  }

  // ---- reconnect storm ------------------------------------------------------------------------

  /**
   * Publishes one event per channel (so tRPC clients hold a resume id), then arms reconnection: from now on
   * every closed subscriber reconnects with full-jitter backoff and resubscribes (with `lastEventId`).
   */
  async armStorm(timeoutMs: number): Promise<{ resumeIds: number }> {
    await this.burst(this.spec.channels, 1, timeoutMs);
    for (const client of this.clients) client.done = false;
    this.opens = [];
    this.attempts = 0;
    this.failedAttempts = 0;
    this.doneCount = 0;
    this.lastDoneAt = 0;
    this.gaps = 0;
    this.reconnect = true;
    this.publisher?.terminate();
    return { resumeIds: this.clients.filter((c) => c.lastEventId !== undefined).length };
  }

  /** Waits until every subscriber is back (subscribed, and for tRPC resumed), then stops reconnecting. */
  async stormResult(timeoutMs: number): Promise<StormResult> {
    if (this.doneCount < this.clients.length) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.onAllDone = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.onAllDone = undefined;
    this.reconnect = false;
    const opens = [...this.opens].sort((a, b) => a - b);
    return {
      clients: this.clients.length,
      done: this.doneCount,
      attempts: this.attempts,
      failedAttempts: this.failedAttempts,
      firstOpenAt: opens[0] ?? Number.NaN,
      lastOpenAt: opens[opens.length - 1] ?? Number.NaN,
      lastDoneAt: this.lastDoneAt,
      peakOpensPerSec: peakPerWindow(opens, 1000),
      gapsReceived: this.gaps,
    };
  }
}
