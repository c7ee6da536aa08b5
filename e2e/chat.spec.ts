import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, signIn, test } from './support/fixtures.ts';

const SCREENSHOT = join(import.meta.dirname, 'screenshots', 'chat.png');

/** A room of its own per run, so history from earlier runs or specs cannot leak in. */
function uniqueRoom(): string {
  return `e2e-${Date.now().toString(36)}`;
}

async function send(page: Page, text: string) {
  await page.getByLabel(/^Message #/).fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
}

function messages(page: Page, text: string) {
  return page
    .getByTestId('message')
    .filter({ has: page.getByTestId('message-text').getByText(text, { exact: true }) });
}

/** Every message on the page, as "author: text", in order. */
async function transcript(page: Page): Promise<string[]> {
  return page
    .getByTestId('message')
    .evaluateAll((items) =>
      items.map(
        (item) =>
          `${item.querySelector('[data-testid=message-author]')?.textContent}: ${item.querySelector('[data-testid=message-text]')?.textContent}`,
      ),
    );
}

/** Connected, subscribed to the room, and seeing `count` people in it. */
async function expectLive(page: Page, count: number) {
  // Generous: after a server restart the client may be waiting out a backoff delay of several seconds.
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-status', 'open', { timeout: 30_000 });
  await expect(page.getByTestId('room-status')).toHaveAttribute('data-status', 'live');
  await expect(page.getByTestId('presence-member')).toHaveCount(count);
}

test('bad login input shows the server error in the form', async ({ page }) => {
  await page.goto('/chat/');
  const name = page.getByLabel('Your name');
  const error = page.getByTestId('login-error');

  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(error).toHaveText('name is required');
  await expect(name).toHaveAttribute('aria-invalid', 'true');

  await name.fill('x'.repeat(101));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(error).toHaveText('name is over 100 characters');

  await name.fill('  ');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(error).toHaveText('name is required');

  // The form still works after the errors.
  await name.fill('dana');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('current-user')).toHaveText('dana');
});

test('a reload keeps the user signed in and in the room', async ({ page }) => {
  const room = uniqueRoom();
  await signIn(page, 'chat', 'erin', room);
  await expect(page.getByTestId('room-title')).toHaveText(`#${room}`);
  await page.reload();
  await expect(page.getByTestId('current-user')).toHaveText('erin');
  await expect(page.getByTestId('room-title')).toHaveText(`#${room}`);
});

test('two users chat with presence and typing, a late joiner gets history, and a server restart loses and duplicates nothing', async ({
  newUser,
  server,
}) => {
  const room = uniqueRoom();
  const alice = (await newUser('alice', 'chat', room)).page;
  const bob = (await newUser('bob', 'chat', room)).page;

  await test.step('both see each other in the room', async () => {
    await expectLive(alice, 2);
    await expectLive(bob, 2);
    await expect(bob.getByTestId('presence-list')).toContainText('alice');
    await expect(alice.getByTestId('presence-list')).toContainText('bob');
  });

  await test.step('typing shows on the other screen and clears when the message is sent', async () => {
    await alice.getByLabel(/^Message #/).pressSequentially('hello b');
    await expect(bob.getByTestId('typing-indicator')).toHaveText('alice is typing…');
    await alice.getByLabel(/^Message #/).pressSequentially('ob');
    await alice.getByRole('button', { name: 'Send' }).click();
    await expect(messages(bob, 'hello bob')).toHaveCount(1);
    await expect(bob.getByTestId('typing-indicator')).toHaveText('');
    await expect(messages(alice, 'hello bob')).toHaveAttribute('data-status', 'sent');
  });

  await test.step('replies arrive in order on both screens', async () => {
    await send(bob, 'hi alice');
    await send(alice, 'how are things?');
    const expected = ['You: hello bob', 'bob: hi alice', 'You: how are things?'];
    await expect.poll(() => transcript(alice)).toEqual(expected);
    await expect
      .poll(() => transcript(bob))
      .toEqual(['alice: hello bob', 'You: hi alice', 'alice: how are things?']);
  });

  await test.step('a third user joining late sees the history and shows up in presence', async () => {
    const { context, page: carol } = await newUser('carol', 'chat', room);
    await expect
      .poll(() => transcript(carol))
      .toEqual(['alice: hello bob', 'bob: hi alice', 'alice: how are things?']);
    await expect(alice.getByTestId('presence-member')).toHaveCount(3);
    await context.close();
    await expect(alice.getByTestId('presence-member')).toHaveCount(2);
  });

  await test.step('screenshot for the README', async () => {
    await send(bob, 'all good! the dashboard shows us both 👋');
    await expect(messages(alice, 'all good! the dashboard shows us both 👋')).toHaveCount(1);
    await alice.getByLabel(/^Message #/).pressSequentially('nice');
    await expect(bob.getByTestId('typing-indicator')).toHaveText('alice is typing…');
    await bob.screenshot({ path: SCREENSHOT });
    await alice.getByLabel(/^Message #/).fill('');
  });

  await test.step('after a server restart, later messages arrive once each', async () => {
    await server.restart();
    await expectLive(alice, 2);
    await expectLive(bob, 2);
    await send(alice, 'alice after restart');
    await send(bob, 'bob after restart');
    for (const page of [alice, bob]) {
      await expect(messages(page, 'alice after restart')).toHaveCount(1);
      await expect(messages(page, 'bob after restart')).toHaveCount(1);
    }
    await expect(messages(alice, 'alice after restart')).toHaveAttribute('data-status', 'sent');
    await expect(messages(bob, 'bob after restart')).toHaveAttribute('data-status', 'sent');
    // Nothing from before the restart was lost or shown twice.
    const before = ['hello bob', 'hi alice', 'how are things?', 'all good! the dashboard shows us both 👋'];
    for (const page of [alice, bob]) {
      const texts = (await transcript(page)).map((line) => line.slice(line.indexOf(': ') + 2));
      expect(texts.slice(0, before.length)).toEqual(before);
      expect(texts.filter((text) => text.endsWith('after restart')).sort()).toEqual([
        'alice after restart',
        'bob after restart',
      ]);
      expect(texts).toHaveLength(before.length + 2);
    }
  });
});
