/**
 * The suite's fixtures: `server` (the demo server started by the global setup, with `restart()` and
 * `/metrics` reading) and `newUser` (a fresh browser context signed in to an app, with a switch for its
 * network, closed after the test).
 * Import `test` and `expect` from here instead of `@playwright/test`.
 */
import { type BrowserContext, test as base, expect, type Page } from '@playwright/test';
import { startServerProcess, stopServerProcess } from './demoServer.ts';
import { controlNetwork, type NetworkSwitch } from './network.ts';
import { readServerState, writeServerState } from './serverState.ts';

export type DemoApp = 'chat' | 'dashboard' | 'collab';

export interface DemoServer {
  url: string;
  /** Stops the server (SIGTERM, as a deploy does) and starts it again on the same port and secret. */
  restart(): Promise<void>;
  /** A gauge or counter from `/metrics`, e.g. `switchboard_connections`. */
  metric(name: string): Promise<number>;
}

export interface User {
  context: BrowserContext;
  page: Page;
  /** Drops and restores this user's WebSocket. */
  network: NetworkSwitch;
}

/** Opens `/<app>/#<hash>` and signs in through the form, as a person would. */
export async function signIn(page: Page, app: DemoApp, name: string, hash = ''): Promise<void> {
  await page.goto(`/${app}/${hash ? `#${hash}` : ''}`);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('current-user')).toHaveText(name);
}

export const test = base.extend<
  { newUser: (name: string, app: DemoApp, hash?: string) => Promise<User> },
  { server: DemoServer }
>({
  server: [
    // biome-ignore lint/correctness/noEmptyPattern: Playwright reads fixture dependencies from this pattern.
    async ({}, use) => {
      const url = `http://127.0.0.1:${readServerState().state.port}`;
      await use({
        url,
        async restart() {
          const { file, state } = readServerState();
          await stopServerProcess(state.pid);
          const pid = await startServerProcess(state);
          writeServerState(file, { ...state, pid });
        },
        async metric(name) {
          const text = await (await fetch(`${url}/metrics`)).text();
          // `name 3` or `name{instance_id="..."} 3`: summed over label sets.
          const samples = text
            .split('\n')
            .filter((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`));
          if (samples.length === 0) throw new Error(`metric ${name} not found in /metrics`);
          return samples.reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
        },
      });
    },
    { scope: 'worker' },
  ],
  baseURL: async ({ server }, use) => use(server.url),
  newUser: async ({ browser, server }, use) => {
    const contexts: BrowserContext[] = [];
    await use(async (name, app, hash) => {
      const context = await browser.newContext({ baseURL: server.url });
      contexts.push(context);
      const network = await controlNetwork(context);
      const page = await context.newPage();
      await signIn(page, app, name, hash);
      return { context, page, network };
    });
    await Promise.all(contexts.map((context) => context.close()));
  },
});

export { expect };
