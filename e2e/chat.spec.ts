import type { Page } from '@playwright/test';
import { expect, signIn, test } from './support/fixtures.ts';
import { readmeScreenshot } from './support/readmeScreenshot.ts';

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
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-status', 'open', {
    timeout: 30_000,
  });
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
  // Each run starts its own server, so fixed room names cannot collide with earlier runs.
  const room = 'reload-check';
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
  const room = 'launch-plan';
  const alice = (await newUser('alice', 'chat', room)).page;
  const bobUser = await newUser('bob', 'chat', room);
  const bob = bobUser.page;

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

  await test.step('screenshot for the README; a typing indicator expires when typing stops', async () => {
    await send(bob, 'All good, shipping on Friday.');
    await expect(messages(alice, 'All good, shipping on Friday.')).toHaveCount(1);
    await alice.getByLabel(/^Message #/).pressSequentially('Great');
    await expect(bob.getByTestId('typing-indicator')).toHaveText('alice is typing…');
    await readmeScreenshot(bob, 'chat');
    // Alice stops typing without sending: the indicator goes after ~3 s without a refresh.
    await expect(bob.getByTestId('typing-indicator')).toHaveText('', { timeout: 6_000 });
  });

  await test.step('after a server restart, a message sent before the other user is back arrives once', async () => {
    // Bob's reconnect is held back until Alice has sent, so her message is published while his
    // subscription is gone: the restarted server (new, empty in-memory stream) must replay it to him.
    await bobUser.network.goOffline();
    const restarted = server.restart();
    await expect(alice.getByTestId('connection-banner')).toContainText('Connection lost. Reconnecting');
    await restarted;
    await expectLive(alice, 1);
    await send(alice, 'alice after restart');
    await expect(messages(alice, 'alice after restart')).toHaveAttribute('data-status', 'sent');

    await bobUser.network.goOnline();
    await expectLive(bob, 2);
    await expect(messages(bob, 'alice after restart')).toHaveCount(1);
    // The server lost its history in the restart, and says so, before the replay.
    await expect(bob.getByTestId('room-gap')).toBeVisible();
    await send(bob, 'bob after restart');
    for (const page of [alice, bob]) {
      await expect(messages(page, 'alice after restart')).toHaveCount(1);
      await expect(messages(page, 'bob after restart')).toHaveCount(1);
    }
    await expect(messages(bob, 'bob after restart')).toHaveAttribute('data-status', 'sent');
    // Nothing from before the restart was lost or shown twice.
    const before = ['hello bob', 'hi alice', 'how are things?', 'All good, shipping on Friday.'];
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

test('a send the server rejects is shown as failed, and Retry sends it', async ({ newUser }) => {
  const room = 'retry-check';
  const ivan = await newUser('ivan', 'chat', room);
  const judy = (await newUser('judy', 'chat', room)).page;
  await expectLive(ivan.page, 2);

  ivan.network.rejectNextChatMessage();
  await send(ivan.page, 'second try works');
  const mine = messages(ivan.page, 'second try works');
  await expect(mine).toHaveAttribute('data-status', 'failed');
  await expect(mine).toContainText('no-such-event');
  await expect(messages(judy, 'second try works')).toHaveCount(0);

  await mine.getByRole('button', { name: 'Retry' }).click();
  await expect(mine).toHaveAttribute('data-status', 'sent');
  await expect(messages(judy, 'second try works')).toHaveCount(1);
  await expect(messages(ivan.page, 'second try works')).toHaveCount(1);
});

test('a message sent while offline waits, then arrives once after the reconnect', async ({ newUser }) => {
  const room = 'offline-send';
  const kim = await newUser('kim', 'chat', room);
  const leo = (await newUser('leo', 'chat', room)).page;
  await expectLive(kim.page, 2);

  await kim.network.goOffline();
  await expect(kim.page.getByTestId('connection-banner')).toHaveAttribute('data-kind', 'offline');
  await send(kim.page, 'written in a tunnel');
  await expect(messages(kim.page, 'written in a tunnel')).toHaveAttribute('data-status', 'pending');
  // Longer than the client's call timeout (10 s): the publish gives up, and the message still waits
  // instead of turning into "Not sent".
  await kim.page.waitForTimeout(11_000);
  await expect(messages(kim.page, 'written in a tunnel')).toHaveAttribute('data-status', 'pending');

  await kim.network.goOnline();
  await expect(messages(kim.page, 'written in a tunnel')).toHaveAttribute('data-status', 'sent');
  await expect(messages(leo, 'written in a tunnel')).toHaveCount(1);
  await expect(messages(kim.page, 'written in a tunnel')).toHaveCount(1);
});

test('a session the server no longer accepts shows the unauthorized banner, and signing in again recovers', async ({
  page,
}) => {
  await signIn(page, 'chat', 'frank', 'auth-check');
  await expect(page.getByTestId('room-status')).toHaveAttribute('data-status', 'live');
  // A token signed with another secret, as after a secret rotation: the stored session's and the cookie's.
  const forged = await page.evaluate(() => {
    const session = JSON.parse(localStorage.getItem('switchboard.session') ?? '{}');
    const [header, payload] = String(session.token).split('.');
    const token = `${header}.${payload}.forged`;
    localStorage.setItem('switchboard.session', JSON.stringify({ ...session, token }));
    return token;
  });
  const context = page.context();
  const cookie = (await context.cookies()).find((c) => c.name === 'sb_token');
  if (!cookie) throw new Error('sign-in set no sb_token cookie');
  await context.addCookies([{ ...cookie, value: forged }]);
  await page.reload();
  const banner = page.getByTestId('connection-banner');
  await expect(banner).toHaveAttribute('data-kind', 'unauthorized', { timeout: 20_000 });
  await expect(banner).toContainText('Sign in again');
  // Sending cannot work until then: the composer is disabled and says what to do.
  await expect(page.getByLabel(/^Message #/)).toBeDisabled();
  const blocked = page.getByTestId('composer-blocked');
  await expect(blocked).toContainText('Your session is no longer valid.');
  await blocked.getByRole('button', { name: 'Sign in again' }).click();
  await page.getByLabel('Your name').fill('frank');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('room-status')).toHaveAttribute('data-status', 'live');
  await expect(page.getByTestId('connection-banner')).toHaveCount(0);
});

test('chat, dashboard and collab share one sign-in: in on one app is in on all, out on one is out of all', async ({
  page,
}) => {
  const room = 'shared-browser';
  await signIn(page, 'chat', 'gina', room);
  await expectLive(page, 1);
  // Sign-in also sets the HttpOnly cookie; the page's own token is what its socket sends.
  const cookies = await page.context().cookies();
  expect(cookies.find((cookie) => cookie.name === 'sb_token')).toMatchObject({ httpOnly: true });

  // Another tab, another app: already signed in, no form.
  const dashboard = await page.context().newPage();
  await dashboard.goto('/dashboard/');
  await expect(dashboard.getByTestId('current-user')).toHaveText('gina');
  await expect(dashboard.getByTestId('connection-status')).toHaveAttribute('data-status', 'open');

  // Signing out of the dashboard signs the chat tab out too, and signing in on the chat signs the
  // dashboard in again.
  await dashboard.getByTestId('sign-out').click();
  await expect(dashboard.getByLabel('Your name')).toBeVisible();
  await expect(page.getByLabel('Your name')).toBeVisible();
  await page.getByLabel('Your name').fill('hugo');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('current-user')).toHaveText('hugo');
  await expect(dashboard.getByTestId('current-user')).toHaveText('hugo');

  const collab = await page.context().newPage();
  await collab.goto('/collab/');
  await expect(collab.getByTestId('current-user')).toHaveText('hugo');
  await expectLive(page, 1);
  await expect(page.getByTestId('presence-list')).toContainText('hugo');
});
