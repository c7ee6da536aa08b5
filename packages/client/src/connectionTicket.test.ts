import { useCleanup } from '@switchboard/server/testing';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { corsFetch } from './__tests__/corsFetch.ts';
import { testClient } from './__tests__/testClient.ts';
import { signToken, startTestServer, type TestRouter } from './__tests__/testServer.ts';
import { stateMatching } from './__tests__/waitFor.ts';
import type { SwitchboardClient } from './createSwitchboardClient.ts';
import type { ClientOptions } from './options.ts';

const track = useCleanup();

/** A `ws` WebSocket that remembers every URL the client opened. */
function urlRecordingWebSocket() {
  const urls: string[] = [];
  class UrlRecordingWebSocket extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      urls.push(String(url));
      super(url, protocols);
    }
  }
  return { WebSocket: UrlRecordingWebSocket, urls };
}

function connect(
  options: Partial<ClientOptions> & Pick<ClientOptions, 'url'>,
): SwitchboardClient<TestRouter> {
  return track(testClient(options), (client) => client.close());
}

describe('tokens out of URLs', () => {
  it('connects with a single-use ticket: the long-lived token never appears in a WebSocket URL', async () => {
    const fixture = track(await startTestServer(), (f) => f.close());
    const token = await signToken('alice');
    const recorder = urlRecordingWebSocket();
    const client = connect({
      url: fixture.wsUrl,
      getToken: () => token,
      WebSocket: recorder.WebSocket as never,
    });
    await stateMatching(client, (s) => s.status === 'open', 'open');
    expect(await client.trpc.whoami.query()).toEqual({ userId: 'alice', name: 'alice' });
    // Reconnect: a fresh ticket each time (a spent one would be refused).
    for (const connection of fixture.server.registry.all()) connection.socket.terminate();
    await stateMatching(
      client,
      (s) => s.status === 'reconnecting' || s.status === 'connecting',
      'reconnecting',
    );
    await stateMatching(client, (s) => s.status === 'open', 'open again');
    expect(recorder.urls.length).toBeGreaterThanOrEqual(2);
    for (const url of recorder.urls) {
      expect(url).not.toContain(token);
      expect(new URL(url).searchParams.get('ticket')).toBeTruthy();
    }
    expect(new Set(recorder.urls).size).toBe(recorder.urls.length);
  });

  it('reports a refused token as unauthorized and never connects without a credential', async () => {
    const fixture = track(await startTestServer(), (f) => f.close());
    const recorder = urlRecordingWebSocket();
    const client = connect({
      url: fixture.wsUrl,
      getToken: () => 'not-a-valid-token',
      WebSocket: recorder.WebSocket as never,
    });
    await stateMatching(client, (s) => s.status === 'closed' || s.status === 'reconnecting', 'refused');
    // Without a credential in the URL, a browser would send its cookie and connect as whoever owns it.
    expect(recorder.urls.length).toBeGreaterThan(0);
    for (const url of recorder.urls) {
      expect(new URL(url).searchParams.has('ticket') || new URL(url).searchParams.has('token')).toBe(true);
    }
  });

  it('sends ?token= only when asked to (ticketUrl: false)', async () => {
    const fixture = track(await startTestServer(), (f) => f.close());
    const token = await signToken('alice');
    const recorder = urlRecordingWebSocket();
    const client = connect({
      url: fixture.wsUrl,
      getToken: () => token,
      ticketUrl: false,
      WebSocket: recorder.WebSocket as never,
    });
    await stateMatching(client, (s) => s.status === 'open', 'open');
    expect(new URL(recorder.urls[0]!).searchParams.get('token')).toBe(token);
  });
});

describe('ticket exchange from a page on another origin', () => {
  // The React hook tests stayed `connecting`: their DOM's fetch is cross-origin to the server and follows
  // CORS, and the ticket route answered the preflight 405 without CORS headers, so no browser app served
  // from an allowed other origin could get a ticket.
  it('gets a ticket through the CORS preflight when the server allows the origin', async () => {
    const page = 'http://app.example.test';
    const fixture = track(await startTestServer({ overrides: { allowedOrigins: [page] } }), (f) => f.close());
    const recording = urlRecordingWebSocket();
    const client = connect({
      url: fixture.wsUrl,
      getToken: () => signToken('alice'),
      WebSocket: recording.WebSocket,
      fetch: corsFetch(page),
    });
    await stateMatching(client, (s) => s.status === 'open', 'open', 3_000);
    expect(recording.urls[0]).toMatch(/[?&]ticket=/);
    expect(await client.trpc.whoami.query()).toEqual({ userId: 'alice', name: 'alice' });
  });

  it('gets no ticket for an origin the server does not allow', async () => {
    const fixture = track(
      await startTestServer({ overrides: { allowedOrigins: ['http://other.example.test'] } }),
      (f) => f.close(),
    );
    const answer = await corsFetch('http://app.example.test')(`${fixture.httpUrl}/auth/ticket`, {
      method: 'POST',
      headers: { authorization: `Bearer ${signToken('alice')}` },
    }).catch((error: unknown) => error);
    expect(answer).toBeInstanceOf(TypeError);
  });
});
