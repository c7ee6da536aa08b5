import { WebSocket } from 'ws';
import { BENCH_SECRET } from '../config.ts';
import { wallNow } from '../ipc.ts';
import { trpcFrames } from '../loadgen/protocols.ts';
import { payloadJson, signToken } from '../wire.ts';

/**
 * One load generator's share of the scale run: bare `ws` sockets that send exactly what `@trpc/client`'s
 * wsLink sends to subscribe (`loadgen/protocols.ts`, checked against the official client by `pnpm bench`),
 * each as its own user with its own HS256 token. Unlike the bench's `Group`, a connection that fails is
 * counted, not fatal: the run reports how many it could make instead of stopping. Deliveries are counted
 * per broadcast (the `seq` in the payload) with the wall-clock time of the first and last one, so the
 * orchestrator can compare them with the publish time taken in another process.
 */
export interface PoolSpec {
  /** Instance ports; socket `i` (global index) goes to `ports[i % ports.length]`. */
  ports: number[];
  /** Global index of this pool's first socket (user ids and port choice follow it). */
  firstIndex: number;
  count: number;
  channel: string;
}

export interface ConnectReport {
  attempted: number;
  live: number;
  failed: number;
  /** Live sockets that closed later. */
  dropped: number;
  /** Still handshaking when the time ran out. */
  pending: number;
  elapsedMs: number;
  /** The most frequent failure reasons with their counts. */
  errors: Record<string, number>;
}

export interface DeliveryReport {
  seq: number;
  /** Live sockets when the broadcast was armed: each should receive it once. */
  expected: number;
  delivered: number;
  /** Frames received during the window that were not this broadcast. */
  other: number;
  /** Wall-clock ms of the first and last delivery (0 when none). */
  firstAt: number;
  lastAt: number;
  complete: boolean;
  /** Size of one delivered WebSocket message (payload bytes, without the 2–4 byte frame header). */
  messageBytes: number;
}

const State = { connecting: 0, live: 1, closed: 2 } as const;

/** The subscription id `@trpc/client` gives the first operation on a fresh client. */
const SUBSCRIPTION_ID = 1;
const LIVE_MARKER = '"type":"$live"';
const SEQ_KEY = Buffer.from('"seq":');
const MAX_ERROR_KINDS = 8;

export class SubscriberPool {
  private readonly sockets: (WebSocket | undefined)[];
  private readonly states: Uint8Array;
  private live = 0;
  private failed = 0;
  private dropped = 0;
  private readonly errors = new Map<string, number>();

  private armedSeq = -1;
  private expected = 0;
  private delivered = 0;
  private other = 0;
  private firstAt = 0;
  private lastAt = 0;
  private messageBytes = 0;
  private onComplete: (() => void) | undefined;

  private publisher: WebSocket | undefined;
  private publishId = 1;
  private readonly publishAcks = new Map<number, (error?: string) => void>();

  constructor(private readonly spec: PoolSpec) {
    this.sockets = new Array(spec.count);
    this.states = new Uint8Array(spec.count).fill(State.closed);
  }

  private noteError(reason: string) {
    const key = reason.slice(0, 120);
    if (this.errors.has(key) || this.errors.size < MAX_ERROR_KINDS)
      this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
    else this.errors.set('(other reasons)', (this.errors.get('(other reasons)') ?? 0) + 1);
  }

  private open(slot: number, settled: () => void): void {
    const index = this.spec.firstIndex + slot;
    const port = this.spec.ports[index % this.spec.ports.length]!;
    this.states[slot] = State.connecting;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, {
      perMessageDeflate: false,
      skipUTF8Validation: true,
      headers: { authorization: `Bearer ${signToken(BENCH_SECRET, `s${index}`)}` },
    });
    this.sockets[slot] = ws;
    let reason: string | undefined;
    ws.on('open', () => ws.send(trpcFrames.subscribe(SUBSCRIPTION_ID, this.spec.channel)));
    ws.on('message', (data: Buffer) => {
      if (this.states[slot] === State.live) {
        this.onDelivery(data);
        return;
      }
      const text = data.toString();
      if (text.includes(LIVE_MARKER)) {
        this.states[slot] = State.live;
        this.live++;
        settled();
      } else if (text.includes('"error"')) {
        reason = `subscribe refused: ${text.slice(0, 200)}`;
        ws.terminate();
      }
    });
    ws.on('unexpected-response', (_request, response) => {
      reason = `HTTP ${response.statusCode}`;
      ws.terminate();
    });
    ws.on('error', (error) => {
      reason ??= error.message;
    });
    ws.on('close', (code) => {
      const was = this.states[slot];
      this.states[slot] = State.closed;
      this.sockets[slot] = undefined;
      if (was === State.live) {
        this.live--;
        this.dropped++;
        this.noteError(`closed after subscribing (code ${code})`);
      } else if (was === State.connecting) {
        this.failed++;
        this.noteError(reason ?? `closed before subscribed (code ${code})`);
        settled();
      }
    });
  }

  /**
   * Opens every socket with at most `inFlight` handshakes at a time and waits until each is subscribed
   * (`$live` received) or failed, or `timeoutMs` passed. Never rejects: the report says how many made it.
   */
  connect(inFlight: number, timeoutMs: number): Promise<ConnectReport> {
    const started = performance.now();
    let next = 0;
    let running = 0;
    let settledCount = 0;
    const total = this.spec.count;
    return new Promise((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        const pending = total - this.live - this.failed - this.dropped;
        resolve({
          attempted: next,
          live: this.live,
          failed: this.failed,
          dropped: this.dropped,
          pending,
          elapsedMs: performance.now() - started,
          errors: Object.fromEntries(this.errors),
        });
      };
      const timer = setTimeout(finish, timeoutMs);
      const settled = () => {
        running--;
        settledCount++;
        if (settledCount === total) finish();
        else if (!done) launch();
      };
      const launch = () => {
        while (running < inFlight && next < total) {
          running++;
          this.open(next++, settled);
        }
      };
      if (total === 0) finish();
      else launch();
    });
  }

  status() {
    return { live: this.live, failed: this.failed, dropped: this.dropped };
  }

  private onDelivery(data: Buffer) {
    const at = data.indexOf(SEQ_KEY);
    const seq = at < 0 ? -1 : Number.parseInt(data.toString('latin1', at + 6, at + 18), 10);
    if (seq !== this.armedSeq) {
      this.other++;
      return;
    }
    const now = wallNow();
    if (this.delivered === 0) {
      this.firstAt = now;
      this.messageBytes = data.length;
    }
    this.lastAt = now;
    this.delivered++;
    if (this.delivered === this.expected) this.onComplete?.();
  }

  /** Starts counting deliveries of broadcast `seq`; every live socket should receive it once. */
  arm(seq: number): { expected: number } {
    this.armedSeq = seq;
    this.expected = this.live;
    this.delivered = 0;
    this.other = 0;
    this.firstAt = 0;
    this.lastAt = 0;
    return { expected: this.expected };
  }

  /** Waits until the armed broadcast reached every socket, or `timeoutMs`. */
  async deliveries(timeoutMs: number): Promise<DeliveryReport> {
    if (this.delivered < this.expected) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.onComplete = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.onComplete = undefined;
    }
    return {
      seq: this.armedSeq,
      expected: this.expected,
      delivered: this.delivered,
      other: this.other,
      firstAt: this.firstAt,
      lastAt: this.lastAt,
      complete: this.delivered >= this.expected,
      messageBytes: this.messageBytes,
    };
  }

  private ensurePublisher(port: number): Promise<WebSocket> {
    const existing = this.publisher;
    if (existing?.readyState === WebSocket.OPEN) return Promise.resolve(existing);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, {
      perMessageDeflate: false,
      headers: { authorization: `Bearer ${signToken(BENCH_SECRET, 'scale-publisher')}` },
    });
    this.publisher = ws;
    ws.on('message', (data: Buffer) => {
      const text = data.toString();
      const id = Number(/^\{"id":(\d+)/.exec(text)?.[1]);
      const ack = this.publishAcks.get(id);
      if (!ack) return;
      this.publishAcks.delete(id);
      ack(text.includes('"error"') ? text.slice(0, 300) : undefined);
    });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });
  }

  /**
   * Publishes broadcast `seq` through `channel.publish` on the instance at `port`, as a `@trpc/client`
   * mutation, and waits for its answer. `publishedAt` (wall-clock ms) is taken just before the frame is
   * written and is also in the payload.
   */
  async publish(port: number, seq: number, timeoutMs: number) {
    const ws = await this.ensurePublisher(port);
    const id = this.publishId++;
    const publishedAt = wallNow();
    const acked = new Promise<string | undefined>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`publish ${seq} not answered in ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.publishAcks.set(id, (error) => {
        clearTimeout(timer);
        resolve(error);
      });
    });
    ws.send(trpcFrames.publish(id, this.spec.channel, payloadJson(seq, publishedAt)));
    const error = await acked;
    if (error) throw new Error(`publish ${seq} failed: ${error}`);
    return { publishedAt, answeredAt: wallNow() };
  }

  close() {
    for (const ws of this.sockets) ws?.terminate();
    this.publisher?.terminate();
  }
}
