import type { Page } from '@playwright/test';
import { expect, test } from './support/fixtures.ts';
import { readmeScreenshot } from './support/readmeScreenshot.ts';

function editor(page: Page) {
  return page.getByLabel('Document text');
}

async function waitUntilSaved(page: Page) {
  await expect(page.getByTestId('sync-status')).toHaveAttribute('data-state', 'saved');
}

test('two users type into one document at once and end with the same text, seeing each other’s cursor', async ({
  newUser,
}) => {
  // Each run starts its own server, so fixed document ids cannot collide with earlier runs.
  const docId = 'meeting-notes';
  const alice = (await newUser('alice', 'collab', docId)).page;
  const bob = (await newUser('bob', 'collab', docId)).page;
  for (const page of [alice, bob]) {
    await expect(editor(page)).toHaveAttribute('data-ready', 'true');
    await expect(page.getByTestId('person')).toHaveCount(2);
  }

  await editor(alice).click();
  await alice.keyboard.type('The first line.\nThe last line.');
  await expect(editor(bob)).toHaveValue('The first line.\nThe last line.');

  // Alice appends at the end while Bob inserts at the start, keystroke by keystroke, at the same time.
  await editor(bob).click();
  await bob.keyboard.press('Control+Home');
  await editor(alice).focus();
  await alice.keyboard.press('Control+End');
  await Promise.all([
    alice.keyboard.type(' Alice was here 😀.', { delay: 25 }),
    bob.keyboard.type('Bob wrote this. ', { delay: 25 }),
  ]);

  for (const page of [alice, bob]) await waitUntilSaved(page);
  const expected = 'Bob wrote this. The first line.\nThe last line. Alice was here 😀.';
  await expect(editor(alice)).toHaveValue(expected);
  await expect(editor(bob)).toHaveValue(expected);

  const bobsCursor = alice.getByTestId('remote-cursor').filter({ hasText: 'bob' });
  await expect(bobsCursor).toBeVisible();
  await expect(bob.getByTestId('remote-cursor').filter({ hasText: 'alice' })).toBeVisible();
  await readmeScreenshot(alice, 'collab');
});

test('edits made offline are kept and arrive after reconnecting', async ({ newUser }) => {
  const docId = 'offline-notes';
  const alice = await newUser('alice', 'collab', docId);
  const bob = (await newUser('bob', 'collab', docId)).page;
  await expect(editor(alice.page)).toHaveAttribute('data-ready', 'true');
  await expect(editor(bob)).toHaveAttribute('data-ready', 'true');

  await editor(alice.page).click();
  await alice.page.keyboard.type('online. ');
  await expect(editor(bob)).toHaveValue('online. ');

  await alice.network.goOffline();
  await expect(alice.page.getByTestId('connection-status')).not.toHaveAttribute('data-status', 'open');
  await alice.page.keyboard.type('offline edit.');
  await expect(alice.page.getByTestId('sync-status')).toHaveAttribute('data-state', 'offline');
  await editor(bob).press('Control+End');
  await bob.keyboard.type(' Bob meanwhile.');

  await alice.network.goOnline();
  await waitUntilSaved(alice.page);
  await waitUntilSaved(bob);
  const expected = 'online. offline edit. Bob meanwhile.';
  await expect(editor(alice.page)).toHaveValue(expected);
  await expect(editor(bob)).toHaveValue(expected);
});
