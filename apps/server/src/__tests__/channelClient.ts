/**
 * Test fixture: an official `@trpc/client` subscribed to one channel, recording every envelope it gets, with a
 * `url` function so a reconnect can land on another instance (the way a load balancer would send it).
 * Used by the scale-out and chaos tests; extend `ChannelClient` when a test needs more.
 */
import type { Envelope } from '@switchboard/protocol';
import { transformer } from '@switchboard/protocol';
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import WebSocket from 'ws';
import type { AppRouter } from '../index.ts';

export interface ChannelClient {
  /** Stored events received, in arrival order. */
  readonly events: Envelope[];
  /** `$gap` notices received (must stay empty when history covers every reconnect). */
  readonly gaps: Envelope[];
  readonly presence: Envelope[];
  readonly started: Promise<void>;
  /** How many times the socket closed (a client that "stayed connected" has 0). */
  readonly closes: () => number;
  trpc: ReturnType<typeof createTRPCClient<AppRouter>>;
  close(): void;
}

export function createRecordingClient(options: {
  url: () => string;
  token: string;
  channel?: string;
  retryDelayMs?: () => number;
}): ChannelClient {
  let closes = 0;
  const wsClient = createWSClient({
    url: () => `${options.url()}?token=${options.token}`,
    onClose: () => {
      closes++;
    },
    WebSocket: WebSocket as never,
    // Full jitter, short: tests reconnect quickly but never in lockstep.
    retryDelayMs: options.retryDelayMs ?? (() => 50 + Math.random() * 250),
  });
  const trpc = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient, transformer })] });
  const events: Envelope[] = [];
  const gaps: Envelope[] = [];
  const presence: Envelope[] = [];
  let unsubscribe = () => {};
  const started = new Promise<void>((resolve, reject) => {
    if (!options.channel) return resolve();
    const sub = trpc.channel.subscribe.subscribe(
      { channel: options.channel },
      {
        onStarted: () => resolve(),
        onError: reject,
        onData: ({ data }) => {
          if (data.type === '$gap') gaps.push(data);
          else if (data.type === '$presence') presence.push(data);
          else if (data.id !== undefined) events.push(data);
        },
      },
    );
    unsubscribe = () => sub.unsubscribe();
  });
  return {
    events,
    gaps,
    presence,
    started,
    closes: () => closes,
    trpc,
    close() {
      unsubscribe();
      wsClient.close();
    },
  };
}

/** Texts of the `message` events a client received. */
export const textsOf = (client: ChannelClient) =>
  client.events.map((e) => (e.payload as { text: string }).text);

/** Resolves when `condition()` holds, polling every 20 ms; rejects after `timeoutMs` with `what`. */
export async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Checks a received sequence: no duplicate ids and ids in increasing stream order. */
export function assertOrderedUnique(events: Envelope[]): void {
  const seen = new Set<string>();
  let previous: [number, number] = [-1, -1];
  for (const event of events) {
    if (seen.has(event.id!)) throw new Error(`duplicate event ${event.id}`);
    seen.add(event.id!);
    const [ms, seq] = event.id!.split(':')[1]!.split('-').map(Number) as [number, number];
    if (ms < previous[0] || (ms === previous[0] && (seq ?? 0) <= previous[1])) {
      throw new Error(`event ${event.id} out of order`);
    }
    previous = [ms, seq ?? 0];
  }
}
