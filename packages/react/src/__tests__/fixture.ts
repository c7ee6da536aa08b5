/**
 * Per-test setup for hook tests: a demo server and signed-in clients, released after each test in reverse
 * order, after React Testing Library unmounted what the test rendered.
 */
import { cleanup } from '@testing-library/react';
import { afterEach } from 'vitest';
import { type DemoClient, demoClient, startDemo } from './demoServer.ts';

export type Demo = Awaited<ReturnType<typeof startDemo>>;

export function useDemoFixture() {
  const releases: (() => unknown)[] = [];
  afterEach(async () => {
    cleanup();
    for (const release of releases.splice(0).reverse()) await release();
  });
  return {
    async server(): Promise<Demo> {
      const demo = await startDemo();
      releases.push(() => demo.close());
      return demo;
    },
    async client(demo: Demo, name: string): Promise<DemoClient> {
      const { token } = await demo.login(name);
      const client = demoClient(demo.wsUrl, token);
      releases.push(() => client.close());
      return client;
    },
  };
}
