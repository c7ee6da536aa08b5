import type { Envelope } from '@switchboard/protocol';
import { chatChannel } from '@switchboard/protocol/demo';
import { type Broker, createMemoryBroker } from '@switchboard/server';
import { useCleanup } from '@switchboard/server/testing';
import { EventSource } from 'eventsource';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { startDemoInProcess } from './__tests__/demoServer.ts';
import { countingGetToken, testClient } from './__tests__/testClient.ts';
import {
  signToken,
  startTestServer,
  type TestRouter,
  type TestServer,
  until,
} from './__tests__/testServer.ts';
import { startUpgradeBlockingProxy } from './__tests__/upgradeBlockingProxy.ts';
import { collector, recordStates, stateMatching } from './__tests__/waitFor.ts';
import type { ConnectionState } from './connectionState.ts';
import type { SwitchboardClient } from './createSwitchboardClient.ts';
import type { ClientOptions } from './options.ts';

const track = useCleanup();

/** Stays on HTTP for the test unless told otherwise: the WebSocket retry is far off. */
const stayOnHttp = { initialDelayMs: 60_000, maxDelayMs: 60_000 };
const soonBackToWebSocket = { initialDelayMs: 50, maxDelayMs: 200 };

function connect(
  options: Partial<ClientOptions> & Pick<ClientOptions, 'url'>,
): SwitchboardClient<TestRouter> {
  return track(testClient({ EventSource: EventSource as never, ...options }), (c) => c.close());
}

const on = (transport: 'websocket' | 'http') => (s: ConnectionState) =>
  s.status === 'open' && s.transport === transport;

async function serverBehindProxy(broker?: Broker) {
  const fixture = track(await startTestServer(broker ? { broker } : {}), (f) => f.close());
  const proxy = track(await startUpgradeBlockingProxy(fixture.port), (p) => p.close());
  return { fixture, proxy };
}

/** Subscribes to `room`; collects app events and `$gap`s. */
function listen(client: SwitchboardClient, room: string) {
  const events = collector<Envelope>();
  const gaps: unknown[] = [];
  const statuses: string[] = [];
  const unsubscribe = client.channel(chatChannel, room).subscribe({
    onEvent: (event) => events.push(event),
    onGap: (gap) => gaps.push(gap),
    onStatus: (status) => statuses.push(status),
  });
  track(unsubscribe, (u) => u());
  const texts = () => events.items.map((e) => (e.payload as { text: string }).text);
  return { events, gaps, statuses, texts };
}

/** A WebSocket-only client straight to the server (not through the proxy): a publisher on the other transport. */
function directPublisher(fixture: TestServer, room: string) {
  const client = connect({ url: fixture.wsUrl, transport: 'websocket', getToken: () => signToken('bob') });
  return (text: string) => client.channel(chatChannel, room).publish('message', { text });
}

async function restart(fixture: TestServer, broker: Broker): Promise<TestServer> {
  await fixture.close();
  return track(await startTestServer({ port: fixture.port, broker }), (f) => f.close());
}

describe("transport 'auto'", () => {
  it('falls back to HTTP + SSE when upgrades are dropped on the way, and publishes and receives across transports', async () => {
    const { fixture, proxy } = await serverBehindProxy();
    const client = connect({
      url: proxy.wsUrl,
      getToken: () => signToken('alice'),
      websocketRetry: stayOnHttp,
    });
    const states = recordStates(client);
    // Made before the fallback: it waits unsent on the WebSocket, and goes over HTTP instead.
    const early = client.trpc.whoami.query();
    await stateMatching(client, on('http'), 'open over http');
    expect(await early).toEqual({ userId: 'alice', name: 'alice' });
    expect(proxy.blockedUpgrades).toBeGreaterThanOrEqual(2);
    // It tried the WebSocket first, and reports it until it moved.
    expect(states[1]).toMatchObject({ status: 'connecting', transport: 'websocket' });

    const room = listen(client, 'fallback');
    const publishOther = directPublisher(fixture, 'fallback');
    await stateMatching(client, on('http'), 'open');
    await room.events.waitFor(0);
    // Published right after subscribing, still received: the call order holds over HTTP too.
    await client.channel(chatChannel, 'fallback').publish('message', { text: 'from http' });
    await publishOther('from websocket');
    await room.events.waitFor(2, 'both events');
    expect(room.texts()).toEqual(['from http', 'from websocket']);
    expect(await client.trpc.whoami.query()).toEqual({ userId: 'alice', name: 'alice' });
    expect(client.connection.getSnapshot()).toMatchObject({ status: 'open', transport: 'http' });
  });

  it('resumes an SSE subscription after the server restarts: no loss, no duplicate', async () => {
    const broker = createMemoryBroker();
    const started = await serverBehindProxy(broker);
    let fixture = started.fixture;
    const client = connect({
      url: started.proxy.wsUrl,
      getToken: () => signToken('alice'),
      websocketRetry: stayOnHttp,
    });
    await stateMatching(client, on('http'), 'open over http');
    const room = listen(client, 'restart');
    await client.channel(chatChannel, 'restart').publish('message', { text: 'before' });
    await room.events.waitFor(1);

    fixture = await restart(fixture, broker);
    // Published on the restarted server before the SSE stream is back: replayed from history once.
    await directPublisher(fixture, 'restart')('while away');
    await room.events.waitFor(2, 'the event published while away', 10_000);
    await client.channel(chatChannel, 'restart').publish('message', { text: 'after' });
    await room.events.waitFor(3, 'the event published after', 10_000);
    expect(room.texts()).toEqual(['before', 'while away', 'after']);
    expect(room.gaps).toEqual([]);
    expect(client.connection.getSnapshot().transport).toBe('http');
  });

  it('moves back to the WebSocket once an upgrade gets through, and the subscription follows without loss or duplicate', async () => {
    const { fixture, proxy } = await serverBehindProxy();
    const client = connect({
      url: proxy.wsUrl,
      getToken: () => signToken('alice'),
      websocketRetry: soonBackToWebSocket,
    });
    await stateMatching(client, on('http'), 'open over http');
    const room = listen(client, 'back');
    const publishOther = directPublisher(fixture, 'back');
    await client.channel(chatChannel, 'back').publish('message', { text: 'one' });
    await room.events.waitFor(1);

    proxy.blockUpgrades = false;
    await stateMatching(client, on('websocket'), 'open over the websocket again', 10_000);
    await publishOther('two');
    await client.channel(chatChannel, 'back').publish('message', { text: 'three' });
    await room.events.waitFor(3, 'three events');
    expect(room.texts()).toEqual(['one', 'two', 'three']);
    expect(room.gaps).toEqual([]);
    expect(fixture.subscriptions()).toBe(1);
  });

  it('does not fall back on 401: the auth check says unauthorized and the client stops on the WebSocket', async () => {
    const demo = track(await startDemoInProcess(), (d) => d.close());
    const proxy = track(await startUpgradeBlockingProxy(demo.port), (p) => p.close());
    const client = connect({
      url: proxy.wsUrl,
      getToken: () => signToken('mallory', { secret: 'not-the-demo-secret-0123456789abcdef' }),
    });
    const closed = await stateMatching(client, (s) => s.status === 'closed', 'closed', 10_000);
    expect(closed).toMatchObject({ transport: 'websocket', authError: 'unauthorized' });
    expect(closed.error?.code).toBe('UNAUTHORIZED');
  });

  it('stays on the WebSocket while the server is down, and does not fall back when it comes back', async () => {
    const broker = createMemoryBroker();
    let fixture = track(await startTestServer({ broker }), (f) => f.close());
    const tokens = countingGetToken(() => signToken('alice'));
    const client = connect({ url: fixture.wsUrl, getToken: tokens.getToken, fallbackAfterFailures: 1 });
    await stateMatching(client, on('websocket'), 'open');
    const transports = recordStates(client);
    await fixture.close();
    // Every attempt asks for a token: wait for a few attempts (each also asking whether HTTP answers).
    const before = tokens.calls;
    await until(() => tokens.calls >= before + 4, 'four attempts while the server is down');
    fixture = await restart(fixture, broker);
    await stateMatching(client, on('websocket'), 'open again', 10_000);
    expect(new Set(transports.map((s) => s.transport))).toEqual(new Set(['websocket']));
  });
});

describe("transport 'http'", () => {
  it('never opens a WebSocket, and refuses a bad token with UNAUTHORIZED (no retry loop)', async () => {
    const { proxy } = await serverBehindProxy();
    proxy.blockUpgrades = false;
    const client = connect({
      url: proxy.wsUrl,
      transport: 'http',
      getToken: () => signToken('mallory', { secret: 'not-the-test-secret-0123456789abcdef' }),
    });
    listen(client, 'refused');
    const closed = await stateMatching(client, (s) => s.status === 'closed', 'closed');
    expect(closed).toMatchObject({ transport: 'http', authError: 'unauthorized' });
    expect(proxy.blockedUpgrades).toBe(0);
  });

  it('rejects transport http without an EventSource, naming the fix', () => {
    expect(() =>
      testClient({ url: 'ws://127.0.0.1:1/ws', transport: 'http', EventSource: undefined }),
    ).toThrow(/'eventsource' package/);
  });
});

describe('a subscription moved between transports (seeded property)', () => {
  it('receives every event exactly once, in the server order, whatever happens in between', async () => {
    const broker = createMemoryBroker();
    const started = await serverBehindProxy(broker);
    let fixture = started.fixture;
    const proxy = started.proxy;
    const client = connect({
      url: proxy.wsUrl,
      getToken: () => signToken('alice'),
      websocketRetry: soonBackToWebSocket,
    });
    await stateMatching(client, on('http'), 'open over http');
    const room = listen(client, 'property');
    const roomHandle = client.channel(chatChannel, 'property');
    await roomHandle.publish('message', { text: 'start' });
    await room.events.waitFor(1);
    const published = ['start'];
    let n = 0;
    const step = fc.constantFrom('publish-here', 'publish-there', 'toggle-upgrades', 'restart');
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 3, maxLength: 6 }), async (steps) => {
        for (const kind of steps) {
          if (kind === 'toggle-upgrades') proxy.blockUpgrades = !proxy.blockUpgrades;
          else if (kind === 'restart') fixture = await restart(fixture, broker);
          else {
            const text = `e${++n}`;
            if (kind === 'publish-here') await roomHandle.publish('message', { text });
            else await directPublisher(fixture, 'property')(text);
            published.push(text);
          }
        }
        await room.events.waitFor(published.length, `${published.length} events`, 15_000);
        // Settle, so a late duplicate would show.
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect([...room.texts()].sort()).toEqual([...published].sort());
        const ids = room.events.items.map((e) => e.id!);
        expect(new Set(ids).size).toBe(ids.length);
        const sequence = ids.map((id) => Number(id.slice(id.lastIndexOf(':') + 1)));
        expect(sequence).toEqual([...sequence].sort((a, b) => a - b));
        expect(room.gaps).toEqual([]);
      }),
      { seed: 1414, numRuns: 4, endOnFailure: true },
    );
  }, 120_000);
});
