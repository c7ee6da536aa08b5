/**
 * Per-test setup for hook tests: a server and clients, released after each test in reverse order, after
 * React Testing Library unmounted what the test rendered.
 */
import { cleanup } from '@testing-library/react';
import { afterEach } from 'vitest';
import { startTestServer, type TestClient, testClient } from './testServer.ts';

export type TestServer = Awaited<ReturnType<typeof startTestServer>>;

export function setupFixture() {
  const releases: (() => unknown)[] = [];
  afterEach(async () => {
    cleanup();
    for (const release of releases.splice(0).reverse()) await release();
  });
  return {
    async server(): Promise<TestServer> {
      const server = await startTestServer();
      releases.push(() => server.close());
      return server;
    },
    client(server: TestServer, userId: string): TestClient {
      const client = testClient(server.wsUrl, userId);
      releases.push(() => client.close());
      return client;
    },
  };
}
