import type { AddressInfo } from 'node:net';
import { transformer } from '@switchboard/protocol';
import { createTRPCClient, createWSClient, httpSubscriptionLink, wsLink } from '@trpc/client';
import { io } from 'socket.io-client';
import { WebSocket, WebSocketServer } from 'ws';
import { BENCH_SECRET } from '../config.ts';
import { socketIoFrames, sseFrames, trpcFrames } from '../loadgen/protocols.ts';
import type { BenchRouter } from '../servers/switchboard.ts';
import { channelName, EVENT_TYPE, payloadJson, signToken } from '../wire.ts';

/**
 * Checks, before any figure is taken, that the bare-socket load generator sends exactly what the official
 * clients send (`@trpc/client` wsLink, `socket.io-client`), and that the official clients receive events
 * from the servers under test. Frames are compared after a JSON round trip (key order kept, number
 * formatting normalised).
 */
export interface Verification {
  check: string;
  ok: boolean;
  detail: string;
}

/** JSON round trip; a Socket.IO packet keeps its numeric prefix (packet type, ack id) as is. */
function normalise(frame: string): string {
  const [, prefix = '', json = frame] = /^(\d*)([\s\S]*)$/.exec(frame) ?? [];
  return prefix + (json === '' ? '' : JSON.stringify(JSON.parse(json)));
}
const withTimeout = <T>(promise: Promise<T>, ms: number, what: string) =>
  Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms),
    ),
  ]);

function compare(check: string, official: string | undefined, harness: string): Verification {
  if (official === undefined) return { check, ok: false, detail: 'official client sent nothing' };
  const ok = normalise(official) === normalise(harness);
  return { check, ok, detail: ok ? official : `official ${official} ≠ harness ${harness}` };
}

/** A plain ws server on a free port that records text frames and lets a script answer them. */
async function captureServer(onFrame: (socket: WebSocket, text: string, frames: string[]) => void) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const frames: string[] = [];
  const connected: WebSocket[] = [];
  wss.on('connection', (socket) => {
    connected.push(socket);
    socket.on('message', (data) => {
      const text = (data as Buffer).toString();
      frames.push(text);
      onFrame(socket, text, frames);
    });
  });
  return {
    port: (wss.address() as AddressInfo).port,
    frames,
    connected,
    close: () =>
      new Promise<void>((resolve) => {
        // The http server behind `wss` only finishes closing once every connection is gone.
        for (const socket of connected) socket.terminate();
        wss.close(() => resolve());
      }),
  };
}

async function until(condition: () => boolean, ms: number, what: string) {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > ms) throw new Error(`${what}: timed out after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function trpcClient(url: string) {
  const wsClient = createWSClient({ url, WebSocket: WebSocket as never });
  const client = createTRPCClient<BenchRouter>({ links: [wsLink({ client: wsClient, transformer })] });
  return { wsClient, client };
}

/** The frames `@trpc/client` sends: subscribe, publish, and a resubscribe after a dropped connection. */
async function verifyTrpcFrames(): Promise<Verification[]> {
  const channel = channelName(0);
  const resumeId = 'bench0000:7';
  let dropped = false;
  const capture = await captureServer((socket, text) => {
    const message = JSON.parse(text) as { id: number; method: string };
    if (message.method !== 'subscription') return;
    socket.send(trpcFrames.started(message.id));
    if (dropped) return;
    dropped = true;
    // A stored event with a tracked id, then a dropped connection: the client must resubscribe with it.
    const envelope = `{"id":"${resumeId}","type":"${EVENT_TYPE}","channel":"${channel}","payload":{}}`;
    socket.send(
      `{"id":${message.id},"result":{"type":"data","id":"${resumeId}","data":{"json":{"id":"${resumeId}","data":${envelope}}}}}`,
    );
    setTimeout(() => socket.terminate(), 20);
  });
  const { wsClient, client } = trpcClient(`ws://127.0.0.1:${capture.port}`);
  try {
    const isSubscribe = (frame: string) => frame.includes('"subscription"');
    // One operation per tick: the client batches operations issued in the same tick into one array frame.
    const subscription = client.channel.subscribe.subscribe({ channel }, { onData() {} });
    await until(() => capture.frames.filter(isSubscribe).length >= 2, 5_000, 'tRPC resubscribe');
    const payload = JSON.parse(payloadJson(1, 1234.5)) as { seq: number; t: number; pad: string };
    void client.channel.publish.mutate({ channel, type: EVENT_TYPE, payload }).catch(() => {});
    await until(() => capture.frames.some((frame) => frame.includes('"mutation"')), 5_000, 'tRPC publish');
    subscription.unsubscribe();
    const subscribes = capture.frames.filter(isSubscribe);
    const publish = capture.frames.find((frame) => frame.includes('"mutation"'));
    const publishId = publish ? (JSON.parse(publish) as { id: number }).id : 0;
    return [
      compare('tRPC subscribe frame', subscribes[0], trpcFrames.subscribe(1, channel)),
      compare(
        'tRPC publish (mutation) frame',
        publish,
        trpcFrames.publish(publishId, channel, payloadJson(1, 1234.5)),
      ),
      compare(
        'tRPC resubscribe frame (lastEventId)',
        subscribes[1],
        trpcFrames.subscribe(1, channel, resumeId),
      ),
    ];
  } finally {
    wsClient.close();
    await capture.close();
  }
}

/**
 * The request `httpSubscriptionLink` opens for `channel.subscribe` (its EventSource is replaced by one that
 * records the URL), against the path the load generator's SSE subscribers request.
 */
async function verifySseRequest(): Promise<Verification> {
  const check = 'tRPC SSE subscribe request (httpSubscriptionLink)';
  const channel = channelName(0);
  const opened: string[] = [];
  class RecordingEventSource {
    readyState = 0;
    constructor(url: string | URL) {
      opened.push(String(url));
    }
    addEventListener() {}
    removeEventListener() {}
    close() {}
  }
  const client = createTRPCClient<BenchRouter>({
    links: [
      httpSubscriptionLink({
        url: 'http://127.0.0.1:9/trpc',
        transformer,
        EventSource: RecordingEventSource as never,
      }),
    ],
  });
  const subscription = client.channel.subscribe.subscribe({ channel }, { onData() {}, onError() {} });
  try {
    await until(() => opened.length > 0, 5_000, 'httpSubscriptionLink request');
  } finally {
    subscription.unsubscribe();
  }
  const official = new URL(opened[0]!);
  const harness = sseFrames.subscribePath(channel);
  const ok = official.pathname + official.search === harness;
  return {
    check,
    ok,
    detail: ok ? harness : `official ${official.pathname}${official.search} ≠ harness ${harness}`,
  };
}

/** The official tRPC client subscribes to the real Switchboard server and receives a published event. */
async function verifyTrpcEndToEnd(port: number): Promise<Verification> {
  const channel = channelName(999);
  const token = signToken(BENCH_SECRET, 'verify');
  const { wsClient, client } = trpcClient(`ws://127.0.0.1:${port}/ws?token=${token}`);
  try {
    const received = await withTimeout(
      new Promise<unknown>((resolve, reject) => {
        const subscription = client.channel.subscribe.subscribe(
          { channel },
          {
            onStarted() {
              const payload = { seq: 42, t: 1, pad: 'verify' };
              client.channel.publish.mutate({ channel, type: EVENT_TYPE, payload }).catch(reject);
            },
            onData(item) {
              const envelope = (item as { data?: { type?: string; payload?: { seq?: number } } }).data;
              if (envelope?.type === EVENT_TYPE && envelope.payload?.seq === 42) {
                subscription.unsubscribe();
                resolve(item);
              }
            },
            onError: reject,
          },
        );
      }),
      10_000,
      'tRPC end to end',
    );
    return {
      check: '@trpc/client receives from Switchboard',
      ok: true,
      detail: JSON.stringify(received).slice(0, 200),
    };
  } catch (error) {
    return { check: '@trpc/client receives from Switchboard', ok: false, detail: (error as Error).message };
  } finally {
    wsClient.close();
  }
}

/** The frames `socket.io-client` sends after the Engine.IO handshake: join with ack, publish. */
async function verifySocketIoFrames(): Promise<Verification[]> {
  const channel = channelName(0);
  const capture = await captureServer((socket, text) => {
    if (text === socketIoFrames.connect) socket.send('40{"sid":"verify"}');
  });
  capture.frames.length = 0;
  const server = capture;
  const client = io(`ws://127.0.0.1:${server.port}`, { transports: ['websocket'], reconnection: false });
  // The capture server must speak first, like Engine.IO does.
  await until(() => server.connected.length > 0, 5_000, 'socket.io-client connect');
  server.connected[0]!.send(
    '0{"sid":"e","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}',
  );
  try {
    await until(() => client.connected, 5_000, 'socket.io handshake');
    void client
      .timeout(2_000)
      .emitWithAck('join', channel)
      .catch(() => {});
    client.emit('publish', { channel, payload: JSON.parse(payloadJson(1, 1234.5)) });
    await until(() => server.frames.length >= 3, 5_000, 'socket.io frames');
    return [
      compare('Socket.IO join frame', server.frames[1], socketIoFrames.join(0, channel)),
      compare(
        'Socket.IO publish frame',
        server.frames[2],
        socketIoFrames.publish(channel, payloadJson(1, 1234.5)),
      ),
    ];
  } finally {
    client.close();
    await server.close();
  }
}

/** The official Socket.IO client joins a room on the bench server and receives a published event. */
async function verifySocketIoEndToEnd(port: number): Promise<Verification> {
  const channel = channelName(999);
  const client = io(`ws://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false });
  try {
    const received = await withTimeout(
      new Promise<unknown>((resolve) => {
        client.on(EVENT_TYPE, (event: { payload?: { seq?: number } }) => {
          if (event.payload?.seq === 42) resolve(event);
        });
        client.on('connect', async () => {
          await client.emitWithAck('join', channel);
          client.emit('publish', { channel, payload: { seq: 42, t: 1, pad: 'verify' } });
        });
      }),
      10_000,
      'Socket.IO end to end',
    );
    return {
      check: 'socket.io-client receives from Socket.IO',
      ok: true,
      detail: JSON.stringify(received).slice(0, 200),
    };
  } catch (error) {
    return { check: 'socket.io-client receives from Socket.IO', ok: false, detail: (error as Error).message };
  } finally {
    client.close();
  }
}

export async function verifyHarness(ports: { sio: number; sb: number }): Promise<Verification[]> {
  const results: Verification[] = [];
  const run = async (label: string, step: () => Promise<Verification | Verification[]>) => {
    try {
      const outcome = await step();
      results.push(...(Array.isArray(outcome) ? outcome : [outcome]));
    } catch (error) {
      results.push({ check: label, ok: false, detail: (error as Error).message });
    }
  };
  await run('tRPC frames', verifyTrpcFrames);
  await run('tRPC end to end', () => verifyTrpcEndToEnd(ports.sb));
  await run('tRPC SSE request', verifySseRequest);
  await run('Socket.IO frames', verifySocketIoFrames);
  await run('Socket.IO end to end', () => verifySocketIoEndToEnd(ports.sio));
  return results;
}
