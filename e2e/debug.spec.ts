import { expect, test } from './support/fixtures.ts';

test('debug offline', async ({ newUser }) => {
  const docId = `dbg-${Date.now().toString(36)}`;
  const alice = await newUser('alice', 'collab', docId);
  const t0 = Date.now();
  alice.page.on('websocket', (ws) => {
    console.log(Date.now() - t0, 'ws open', ws.url().slice(0, 40));
    ws.on('close', () => console.log(Date.now() - t0, 'ws close'));
    ws.on('socketerror', (e) => console.log(Date.now() - t0, 'ws error', e));
  });
  await expect(alice.page.getByLabel('Document text')).toHaveAttribute('data-ready', 'true');
  await alice.network.goOffline();
  console.log(Date.now() - t0, 'offline');
  await alice.page.waitForTimeout(3000);
  await alice.network.goOnline();
  console.log(Date.now() - t0, 'online');
  for (let i = 0; i < 12; i++) {
    console.log(Date.now() - t0, await alice.page.getByTestId('connection-status').getAttribute('data-status'), await alice.page.getByTestId('connection-banner').textContent().catch(() => '-'));
    await alice.page.waitForTimeout(1000);
  }
});
