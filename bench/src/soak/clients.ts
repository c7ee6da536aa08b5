/**
 * Soak load generator (its own process): CONNECTIONS subscribers spread over CHANNELS chat channels, a few
 * publisher connections at RATE events/s in total, and churn (a share of subscribers reconnects each minute,
 * resuming from its last event id like @trpc/client does). It checks every delivery for order and continuity
 * per channel and prints one JSON report line per interval on stdout.
 */
import WebSocket from 'ws';
import { signToken } from '../wire.ts';

interface SoakConfig {
  wsUrl: string;
  secret: string;
  connections: number;
  channels: number;
  ratePerSecond: number;
  churnPerMinute: number;
  durationMs: number;
  reportEveryMs: number;
}

const config = JSON.parse(process.argv[2]!) as SoakConfig;
const PUBLISHERS = 10;
const channelName = (i: number) => `chat:soak-${i}`;

let deliveries = 0;
let errors = 0;
const errorKinds = new Map<string, number>();
let latencies: number[] = [];
let reconnects = 0;
let published = 0;

function error(kind: string) {
  errors++;
  errorKinds.set(kind, (errorKinds.get(kind) ?? 0) + 1);
}

/** One subscriber: checks that each channel's sequence numbers arrive exactly once, in order. */
class Subscriber {
  socket: WebSocket | undefined;
  lastEventId: string | undefined;
  lastSeq = -1;
  closing = false;
  reconnecting = false;
  constructor(
    readonly index: number,
    readonly token: string,
  ) {}

  connect(): Promise<void> {
    return new Promise((resolve) => {
      const socket = new WebSocket(`${config.wsUrl}?token=${this.token}`, { perMessageDeflate: false });
      this.socket = socket;
      socket.on('open', () => {
        const params: Record<string, unknown> = {
          path: 'channel.subscribe',
          input: { json: { channel: channelName(this.index % config.channels) } },
        };
        if (this.lastEventId) params.lastEventId = this.lastEventId;
        socket.send(JSON.stringify({ id: 1, method: 'subscription', params }));
        resolve();
      });
      socket.on('message', (data) => this.onFrame(data as Buffer));
      socket.on('error', () => {});
      socket.on('close', (code) => {
        if (!this.closing) error(`unexpected close ${code}`);
        resolve();
      });
    });
  }

  onFrame(data: Buffer) {
    const frame = JSON.parse(data.toString()) as {
      result?: {
        type: string;
        id?: string;
        data?: { json: { data: { type: string; id?: string; payload: { text: string } } } };
      };
      error?: unknown;
    };
    if (frame.error) return error('subscription error');
    const envelope = frame.result?.data?.json.data;
    if (!envelope) return;
    if (envelope.type === '$gap') return error('gap');
    if (envelope.type !== 'message') return;
    const [seqText, sentAt] = envelope.payload.text.split('|');
    const seq = Number(seqText);
    if (this.lastSeq >= 0 && seq !== this.lastSeq + 1) error(seq <= this.lastSeq ? 'duplicate' : 'lost');
    this.lastSeq = seq;
    this.lastEventId = envelope.id;
    deliveries++;
    latencies.push(Date.now() - Number(sentAt));
  }

  async reconnect() {
    // Churn may pick a subscriber that is still reconnecting: one socket per subscriber, always.
    if (this.reconnecting || !this.socket) return;
    this.reconnecting = true;
    this.closing = true;
    const closed = new Promise((resolve) => this.socket!.once('close', resolve));
    this.socket!.close();
    await closed;
    this.closing = false;
    reconnects++;
    await this.connect();
    this.reconnecting = false;
  }
}

async function main() {
  const started = Date.now();
  const subscribers = Array.from(
    { length: config.connections },
    (_, i) => new Subscriber(i, signToken(config.secret, `soak-${i}`)),
  );
  for (let i = 0; i < subscribers.length; i += 200) {
    await Promise.all(subscribers.slice(i, i + 200).map((s) => s.connect()));
  }

  // Publishers: each channel has its own sequence, so subscribers can check continuity.
  const sequences = new Array<number>(config.channels).fill(0);
  const publishers = await Promise.all(
    Array.from({ length: PUBLISHERS }, (_, i) => {
      const socket = new WebSocket(
        `${config.wsUrl}?token=${signToken(config.secret, `soak-publisher-${i}`)}`,
      );
      socket.on('message', (data) => {
        if (data.toString().includes('"error"')) error('publish failed');
      });
      socket.on('error', () => {});
      return new Promise<WebSocket>((resolve) => socket.once('open', () => resolve(socket)));
    }),
  );
  let requestId = 0;
  const publishStarted = Date.now();
  const publishTimer = setInterval(() => {
    const due = Math.floor(((Date.now() - publishStarted) * config.ratePerSecond) / 1000);
    while (published < due) {
      const channel = published % config.channels;
      const text = `${sequences[channel]!++}|${Date.now()}`;
      publishers[published % PUBLISHERS]!.send(
        JSON.stringify({
          id: ++requestId,
          method: 'mutation',
          params: {
            path: 'channel.publish',
            input: { json: { channel: channelName(channel), type: 'message', payload: { text } } },
          },
        }),
      );
      published++;
    }
  }, 20);

  const churnTimer = setInterval(() => {
    const count = Math.round((config.connections * config.churnPerMinute) / 60);
    for (let k = 0; k < count; k++)
      void subscribers[Math.floor(Math.random() * subscribers.length)]!.reconnect();
  }, 1000);

  /** Prints one report line (the latencies since the previous one) on stdout. */
  const report = (final: boolean) => {
    const sorted = latencies.sort((a, b) => a - b);
    const p99 = sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]! : 0;
    console.log(
      JSON.stringify({
        ...(final ? { final: true } : {}),
        t: Date.now() - started,
        deliveries,
        published,
        reconnects,
        errors,
        errorKinds: Object.fromEntries(errorKinds),
        p99,
      }),
    );
    latencies = [];
  };
  const reportTimer = setInterval(() => report(false), config.reportEveryMs);

  await new Promise((resolve) =>
    setTimeout(resolve, Math.max(0, config.durationMs - (Date.now() - started))),
  );
  clearInterval(publishTimer);
  clearInterval(churnTimer);
  // Let the last deliveries arrive before the final report.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  clearInterval(reportTimer);
  report(true);
  for (const s of subscribers) {
    s.closing = true;
    s.socket?.terminate();
  }
  for (const p of publishers) p.terminate();
  process.exit(0);
}

await main();
