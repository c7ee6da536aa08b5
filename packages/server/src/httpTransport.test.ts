import { request } from 'node:http';
import type { Envelope } from '@switchboard/protocol';
import { transformer } from '@switchboard/protocol';
import {
  createTRPCClient,
  httpBatchLink,
  httpSubscriptionLink,
  splitLink,
  TRPCClientError,
} from '@trpc/client';
import { EventSource } from 'eventsource';
import { describe, expect, it } from 'vitest';
import { useCleanup } from './__tests__/lifecycle.ts';
import { startRedisServer } from './__tests__/redisServer.ts';
import {
  connectTrpc,
  startTestServer,
  type TestRouter,
  type TestServer,
  until,
} from './__tests__/testServer.ts';
import type { Broker } from './broker/broker.ts';
import { createRedisBroker } from './broker/redis.ts';
import type { ServerOptions } from './options.ts';

const track = useCleanup();
const server = (overrides: Partial<ServerOptions> = {}) =>
  startTestServer(overrides).then((s) => track(s, (f) => f.close()));

/**
 * The official HTTP links, unchanged: `httpBatchLink` for calls with a Bearer header, `httpSubscriptionLink`
 * for subscriptions with the token in tRPC's `connectionParams` (an EventSource cannot set headers).
 */
function connectHttp(port: number, credentials: { token?: string; ticket?: () => Promise<string> }) {
  const url = `http://127.0.0.1:${port}/trpc`;
  return createTRPCClient<TestRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({
          url,
          transformer,
          EventSource: EventSource as never,
          connectionParams: async () =>
            credentials.ticket ? { ticket: await credentials.ticket() } : { token: credentials.token ?? '' },
        }),
        false: httpBatchLink({
          url,
          transformer,
          headers: () => (credentials.token ? { authorization: `Bearer ${credentials.token}` } : {}),
        }),
      }),
    ],
  });
}

type HttpClient = ReturnType<typeof connectHttp>;
type WsClient = ReturnType<typeof connectTrpc>;

interface Received {
  events: Envelope[];
  ids: (string | undefined)[];
  errors: unknown[];
}

/** Subscribes with the official client (either transport); resolves once `$live` arrived. */
async function subscribe(
  client: HttpClient | WsClient['trpc'],
  input: { channel: string; lastEventId?: string; replay?: number },
): Promise<Received & { stop(): void }> {
  const received: Received = { events: [], ids: [], errors: [] };
  const sub = client.channel.subscribe.subscribe(input, {
    onData: (item) => {
      received.events.push(item.data);
      received.ids.push(item.id);
    },
    onError: (error) => received.errors.push(error),
  });
  track(sub, (s) => s.unsubscribe());
  await until(
    () => received.events.some((e) => e.type === '$live') || received.errors.length > 0,
    5000,
    '$live',
  );
  return { ...received, stop: () => sub.unsubscribe() };
}

const texts = (r: Received) =>
  r.events.filter((e) => e.type === 'message').map((e) => (e.payload as { text: string }).text);

/** A raw GET, for what a client library hides: the status and content type before any byte of a stream. */
function rawGet(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; contentType: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const contentType = String(res.headers['content-type']);
      if (contentType.startsWith('text/event-stream')) {
        // A stream never ends by itself: take the status and the first chunk, then hang up.
        res.once('data', (chunk: Buffer) => {
          resolve({ status: res.statusCode ?? 0, contentType, body: chunk.toString() });
          req.destroy();
        });
        return;
      }
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const subscribeUrl = (port: number, input: object, extra = '') =>
  `http://127.0.0.1:${port}/trpc/channel.subscribe?input=${encodeURIComponent(
    JSON.stringify(transformer.serialize(input)),
  )}${extra}`;

async function publishWs(fixture: TestServer, user: string, text: string, channel = 'chat:room') {
  const client = track(connectTrpc(fixture.wsUrl, await fixture.sign(user)), (c) => c.close());
  return client.trpc.channel.publish.mutate({ channel, type: 'message', payload: { text } });
}

describe('the router over HTTP and SSE', () => {
  it('answers queries and mutations through httpBatchLink with a Bearer token', async () => {
    const fixture = await server();
    const client = connectHttp(fixture.port, { token: await fixture.sign('alice', { name: 'Alice' }) });
    const [me, published] = await Promise.all([
      client.whoami.query(),
      client.channel.publish.mutate({ channel: 'chat:room', type: 'message', payload: { text: 'hi' } }),
    ]);
    expect(me).toEqual({ userId: 'alice', name: 'Alice' });
    expect(published.id).toMatch(/:/);
  });

  it('refuses calls without valid credentials with UNAUTHORIZED, and a stream with 401 before any byte', async () => {
    const fixture = await server();
    const anonymous = connectHttp(fixture.port, {});
    const error = await anonymous.whoami.query().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TRPCClientError);
    expect((error as TRPCClientError<TestRouter>).data?.httpStatus).toBe(401);
    const forged = await fixture.sign('alice', { secret: 'another-secret-0123456789abcdef0123' });
    const attempts: Record<string, string>[] = [{}, { authorization: `Bearer ${forged}` }];
    for (const headers of attempts) {
      const answer = await rawGet(subscribeUrl(fixture.port, { channel: 'chat:room' }), headers);
      expect(answer.status).toBe(401);
      expect(answer.contentType).toMatch(/application\/json/);
    }
  });

  it('opens a stream with a single-use ticket in connectionParams instead of the token', async () => {
    const fixture = await server();
    const token = await fixture.sign('alice');
    const ticket = async () => {
      const answer = await fetch(`http://127.0.0.1:${fixture.port}/auth/ticket`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
      return ((await answer.json()) as { ticket: string }).ticket;
    };
    const received = await subscribe(connectHttp(fixture.port, { ticket }), { channel: 'chat:room' });
    expect(received.errors).toEqual([]);
    await publishWs(fixture, 'bob', 'via ticket');
    await until(() => texts(received).length === 1, 5000, 'the message');
    // The ticket is spent: the same one again is refused before the stream.
    const spent = await ticket();
    const url = subscribeUrl(fixture.port, { channel: 'chat:room' });
    expect((await rawGet(`${url}&ticket=${encodeURIComponent(spent)}`)).contentType).toMatch(/event-stream/);
    expect((await rawGet(`${url}&ticket=${encodeURIComponent(spent)}`)).status).toBe(401);
  });

  it('refuses a disallowed Origin with 403, as the upgrade does', async () => {
    const fixture = await server();
    const token = await fixture.sign('alice');
    const answer = await rawGet(subscribeUrl(fixture.port, { channel: 'chat:room' }), {
      authorization: `Bearer ${token}`,
      origin: 'https://evil.example',
    });
    expect(answer.status).toBe(403);
  });

  it('delivers across transports both ways: SSE sees WebSocket publishes, WebSocket sees HTTP publishes', async () => {
    const fixture = await server();
    const http = connectHttp(fixture.port, { token: await fixture.sign('alice') });
    const ws = track(connectTrpc(fixture.wsUrl, await fixture.sign('bob')), (c) => c.close());
    const atSse = await subscribe(http, { channel: 'chat:room' });
    const atWs = await subscribe(ws.trpc, { channel: 'chat:room' });
    for (let i = 0; i < 10; i++) {
      const client = i % 2 ? http : ws.trpc;
      await client.channel.publish.mutate({
        channel: 'chat:room',
        type: 'message',
        payload: { text: String(i) },
      });
    }
    const expected = Array.from({ length: 10 }, (_, i) => String(i));
    await until(() => texts(atSse).length === 10 && texts(atWs).length === 10, 5000, 'ten messages each');
    expect(texts(atSse)).toEqual(expected);
    expect(texts(atWs)).toEqual(expected);
    // The same tracked envelopes on both: event ids as tracked ids, the sender stamped from the token.
    const sseMessages = atSse.events.filter((e) => e.type === 'message');
    const wsMessages = atWs.events.filter((e) => e.type === 'message');
    expect(sseMessages).toEqual(wsMessages);
    const sseIds = atSse.ids.filter((_, i) => atSse.events[i]!.type === 'message');
    expect(sseIds).toEqual(sseMessages.map((e) => e.id));
  });

  it('replays history and resumes after lastEventId, also from the EventSource Last-Event-ID header', async () => {
    const fixture = await server();
    const ids: string[] = [];
    for (const text of ['a', 'b', 'c']) ids.push((await publishWs(fixture, 'bob', text)).id!);
    const client = connectHttp(fixture.port, { token: await fixture.sign('alice') });
    const replayed = await subscribe(client, { channel: 'chat:room', replay: 2 });
    expect(texts(replayed)).toEqual(['b', 'c']);
    const resumed = await subscribe(client, { channel: 'chat:room', lastEventId: ids[0] });
    expect(texts(resumed)).toEqual(['b', 'c']);
    // `$live` carries the position, so a reconnect after it resumes exactly.
    expect(resumed.ids.at(-1)).toBe(ids[2]);
    // The native reconnect: the header wins over the input's own lastEventId.
    const token = await fixture.sign('alice');
    const url = subscribeUrl(fixture.port, { channel: 'chat:room', lastEventId: ids[0] });
    const events = await readSse(url, { authorization: `Bearer ${token}`, 'last-event-id': ids[1]! }, 2);
    expect(events.map((e) => e.data.json.type)).toEqual(['message', '$live']);
    expect(events[0]!.data.json.payload).toEqual({ text: 'c' });
    expect(events.map((e) => e.id)).toEqual([ids[2], ids[2]]);
  });

  it('tells a subscriber resuming from another epoch with $gap instead of replaying part of it', async () => {
    const fixture = await server();
    const { id } = await publishWs(fixture, 'bob', 'a');
    const client = connectHttp(fixture.port, { token: await fixture.sign('alice') });
    const foreign = `0000000000:${id!.split(':')[1]}`;
    const received = await subscribe(client, { channel: 'chat:room', lastEventId: foreign });
    const gap = received.events.find((e) => e.type === '$gap');
    expect(gap?.payload).toMatchObject({ recovered: false, reason: 'epoch-changed', lastEventId: foreign });
    expect(texts(received)).toEqual(['a']);
  });

  it('joins presence while the stream is open and leaves when it closes', async () => {
    const fixture = await server();
    const client = connectHttp(fixture.port, { token: await fixture.sign('alice') });
    const ws = track(connectTrpc(fixture.wsUrl, await fixture.sign('bob')), (c) => c.close());
    const watcher = await subscribe(ws.trpc, { channel: 'chat:room' });
    const sse = await subscribe(client, { channel: 'chat:room' });
    const members = async () =>
      (await ws.trpc.channel.presence.query({ channel: 'chat:room' })).members.map((m) => m.userId).sort();
    await until(() => watcher.events.some((e) => e.type === '$presence'), 5000, 'join event');
    expect(await members()).toEqual(['alice', 'bob']);
    // The stream is a connection in the metrics, as the WebSocket is.
    expect(fixture.server.metrics.stats.connections).toBe(2);
    sse.stop();
    const start = Date.now();
    while ((await members()).includes('alice') && Date.now() - start < 5000) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await members()).toEqual(['bob']);
    await until(() => fixture.server.metrics.stats.connections === 1, 5000, 'the stream released');
  });

  it('counts each call of a batch against the per-user rate limit: the calls that fit are served', async () => {
    const fixture = await server({
      rateLimitPerSecond: 2,
      rateLimitBurst: 5,
      maxSubscriptionsPerConnection: 5,
    });
    const client = connectHttp(fixture.port, { token: await fixture.sign('alice') });
    const batch = (size: number) =>
      Promise.allSettled(Array.from({ length: size }, () => client.whoami.query()));
    // httpBatchLink batches the calls of one tick: 4 fit the burst of 5, of the next 4 only one does.
    expect((await batch(4)).every((r) => r.status === 'fulfilled')).toBe(true);
    const results = await batch(4);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(refused.map((r) => r.reason.data?.code)).toEqual([
      'TOO_MANY_REQUESTS',
      'TOO_MANY_REQUESTS',
      'TOO_MANY_REQUESTS',
    ]);
    expect(refused[0]!.reason.data?.httpStatus).toBe(429);
    // A client over the rate still gets the rate: a refused call spends nothing, so what refilled is served.
    let served = 0;
    const started = Date.now();
    for (let round = 0; round < 6; round++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      served += (await batch(4)).filter((r) => r.status === 'fulfilled').length;
    }
    const refilled = ((Date.now() - started) / 1000) * 2;
    expect(served).toBeGreaterThanOrEqual(Math.floor(refilled) - 1);
    expect(served).toBeLessThanOrEqual(Math.ceil(refilled) + 1);
  });

  it('validates input as over WebSocket: an invalid payload is BAD_REQUEST', async () => {
    const fixture = await server();
    const client = connectHttp(fixture.port, { token: await fixture.sign('alice') });
    const error = (await client.channel.publish
      .mutate({ channel: 'chat:room', type: 'message', payload: { text: '' } })
      .catch((e: unknown) => e)) as TRPCClientError<TestRouter>;
    expect(error.data?.httpStatus).toBe(400);
  });

  it('ends a slow consumer stream once its buffer passes slowConsumerBytes', async () => {
    const fixture = await server({ slowConsumerBytes: 64 * 1024 });
    const token = await fixture.sign('alice');
    const ended = new Promise<void>((resolve, reject) => {
      const req = request(subscribeUrl(fixture.port, { channel: 'chat:room' }), {
        headers: { authorization: `Bearer ${token}` },
      });
      req.on('response', (res) => {
        res.pause(); // never read: the server's buffer grows
        res.on('error', () => resolve());
        res.on('aborted', () => resolve());
        res.on('close', () => resolve());
      });
      req.on('error', reject);
      req.end();
      track(req, (r) => r.destroy());
    });
    await until(() => sseCount(fixture) === 1, 5000, 'stream open');
    const text = 'x'.repeat(2000);
    let published = 0;
    for (; published < 5000 && sseCount(fixture) > 0; published++) {
      await fixture.server.publish('chat:room', 'message', { text });
    }
    await ended;
    expect(sseCount(fixture)).toBe(0);
    // Ended by the policy, not at once for another reason: about the limit's worth had to be queued first.
    expect(published * text.length).toBeGreaterThan(32 * 1024);
  });
});

function sseCount(fixture: TestServer): number {
  return fixture.server.metrics.stats.subscriptions;
}

/** Reads `count` message events of a raw SSE stream (skipping control events), then hangs up. */
function readSse(
  url: string,
  headers: Record<string, string>,
  count: number,
): Promise<{ id: string | undefined; data: { json: Envelope } }[]> {
  return new Promise((resolve, reject) => {
    const events: { id: string | undefined; data: { json: Envelope } }[] = [];
    let text = '';
    const req = request(url, { headers }, (res) => {
      res.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        let end = text.indexOf('\n\n');
        while (end >= 0) {
          const block = text.slice(0, end);
          text = text.slice(end + 2);
          end = text.indexOf('\n\n');
          if (block.trim() === '' || /^event:/m.test(block)) continue;
          const id = /^id: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          events.push({ id, data: JSON.parse(data!) });
          if (events.length === count) {
            req.destroy();
            resolve(events);
          }
        }
      });
    });
    req.on('error', (error) => {
      if (events.length < count) reject(error);
    });
    req.end();
  });
}

describe('the HTTP transport on Redis', () => {
  it('delivers an event published on one instance to an SSE subscriber of the other, and resumes there', async () => {
    const redis = track(await startRedisServer(), (r) => r.close());
    const brokers: Broker[] = [];
    const instance = async () => {
      const broker = track(createRedisBroker({ url: redis.url }), (b) => b.close());
      brokers.push(broker);
      return server({ broker });
    };
    const a = await instance();
    const b = await instance();
    const atA = await subscribe(connectHttp(a.port, { token: await a.sign('alice') }), {
      channel: 'chat:room',
    });
    const onB = connectHttp(b.port, { token: await b.sign('bob') });
    const first = await onB.channel.publish.mutate({
      channel: 'chat:room',
      type: 'message',
      payload: { text: '1' },
    });
    await onB.channel.publish.mutate({ channel: 'chat:room', type: 'message', payload: { text: '2' } });
    await until(() => texts(atA).length === 2, 5000, 'two messages on A');
    expect(texts(atA)).toEqual(['1', '2']);
    const resumed = await subscribe(connectHttp(b.port, { token: await b.sign('carol') }), {
      channel: 'chat:room',
      lastEventId: first.id,
    });
    expect(texts(resumed)).toEqual(['2']);
  });
});
