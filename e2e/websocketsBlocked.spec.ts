import type { Browser, BrowserContext, Page } from '@playwright/test';
import { type DemoApp, expect, signIn, test } from './support/fixtures.ts';

/**
 * A browser on a network that lets no WebSocket through (a corporate proxy, some mobile networks): every
 * WebSocket the page opens to `/ws` is closed by the route before it opens, as a dropped upgrade looks to
 * a page. Plain HTTP and Server-Sent Events pass. The demo apps must fall back to `/trpc` on their own.
 */
async function blockedUser(
  browser: Browser,
  baseURL: string,
  contexts: BrowserContext[],
  name: string,
  app: DemoApp,
  hash = '',
): Promise<{ page: Page; blockedSockets: () => number }> {
  const context = await browser.newContext({ baseURL });
  contexts.push(context);
  let blocked = 0;
  await context.routeWebSocket(/\/ws(\?|$)/, (ws) => {
    blocked++;
    // Never connected to the server: the page's socket closes without having opened.
    void ws.close({ code: 1000, reason: '' });
  });
  const page = await context.newPage();
  await signIn(page, app, name, hash);
  return { page, blockedSockets: () => blocked };
}

async function expectOnHttp(page: Page) {
  const status = page.getByTestId('connection-status');
  await expect(status).toHaveAttribute('data-transport', 'http', { timeout: 20_000 });
  await expect(status).toHaveAttribute('data-status', 'open', { timeout: 30_000 });
}

function messages(page: Page, text: string) {
  return page
    .getByTestId('message')
    .filter({ has: page.getByTestId('message-text').getByText(text, { exact: true }) });
}

async function send(page: Page, text: string) {
  await page.getByLabel(/^Message #/).fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
}

test.describe('with WebSockets blocked', () => {
  const contexts: BrowserContext[] = [];
  test.afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
  });

  test('chat works over HTTP and SSE, with a WebSocket user in the same room, and resumes after a server restart', async ({
    browser,
    server,
    newUser,
  }) => {
    const room = 'no-websockets';
    const alice = await blockedUser(browser, server.url, contexts, 'alice', 'chat', room);
    const bob = (await newUser('bob', 'chat', room)).page;

    await test.step('alice falls back to HTTP; both see each other', async () => {
      await expectOnHttp(alice.page);
      expect(alice.blockedSockets()).toBeGreaterThanOrEqual(2);
      await expect(bob.getByTestId('connection-status')).toHaveAttribute('data-transport', 'websocket');
      await expect(alice.page.getByTestId('room-status')).toHaveAttribute('data-status', 'live');
      await expect(alice.page.getByTestId('presence-list')).toContainText('bob');
      await expect(bob.getByTestId('presence-list')).toContainText('alice');
    });

    await test.step('messages cross transports both ways, once each', async () => {
      await send(alice.page, 'hello from http');
      await expect(messages(bob, 'hello from http')).toHaveCount(1);
      await expect(messages(alice.page, 'hello from http')).toHaveAttribute('data-status', 'sent');
      await send(bob, 'hello from websocket');
      await expect(messages(alice.page, 'hello from websocket')).toHaveCount(1);
    });

    await test.step('after a server restart, what was sent meanwhile arrives once', async () => {
      await server.restart();
      await expect(bob.getByTestId('connection-status')).toHaveAttribute('data-status', 'open', {
        timeout: 30_000,
      });
      await expect(bob.getByTestId('room-status')).toHaveAttribute('data-status', 'live');
      await send(bob, 'bob after restart');
      await expect(messages(bob, 'bob after restart')).toHaveAttribute('data-status', 'sent');
      await expectOnHttp(alice.page);
      await expect(messages(alice.page, 'bob after restart')).toHaveCount(1, { timeout: 30_000 });
      await send(alice.page, 'alice after restart');
      await expect(messages(bob, 'alice after restart')).toHaveCount(1);
      await expect(messages(alice.page, 'alice after restart')).toHaveCount(1);
      await expect(messages(alice.page, 'hello from http')).toHaveCount(1);
    });
  });

  test('the dashboard loads and shows live figures over HTTP', async ({ browser, server }) => {
    const ops = await blockedUser(browser, server.url, contexts, 'ops', 'dashboard');
    await expectOnHttp(ops.page);
    await expect(ops.page.getByTestId('dashboard-status')).toHaveAttribute('data-state', 'live', {
      timeout: 20_000,
    });
    await expect(ops.page.getByTestId('total-connections')).toHaveText(/\d/);
    const rss = ops.page.getByTestId('total-rss');
    await expect(rss).toHaveText(/\d+(\.\d)? MiB/);
  });

  test('collab loads over HTTP and edits reach a WebSocket user', async ({ browser, server, newUser }) => {
    const docId = 'no-websockets-doc';
    const alice = await blockedUser(browser, server.url, contexts, 'alice', 'collab', docId);
    const bob = (await newUser('bob', 'collab', docId)).page;
    const editor = (page: Page) => page.getByLabel('Document text');
    await expectOnHttp(alice.page);
    await expect(editor(alice.page)).toHaveAttribute('data-ready', 'true');
    await expect(editor(bob)).toHaveAttribute('data-ready', 'true');
    await editor(alice.page).click();
    await alice.page.keyboard.type('typed over http');
    await expect(editor(bob)).toHaveValue('typed over http');
    await editor(bob).click();
    await bob.keyboard.press('End');
    await bob.keyboard.type(', and back');
    await expect(editor(alice.page)).toHaveValue('typed over http, and back');
  });
});
