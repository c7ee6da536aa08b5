import type { Page } from '@playwright/test';
import { expect, test } from './support/fixtures.ts';
import { readmeScreenshot } from './support/readmeScreenshot.ts';

/** The dashboard samples once a second; a change shows within a few samples. */
const SAMPLE_WAIT_MS = 15_000;

async function shownConnections(page: Page): Promise<number> {
  return Number((await page.getByTestId('total-connections').textContent())?.replace(/,/g, ''));
}

test('the dashboard follows connections as users come and go, matching /metrics, with live charts', async ({
  page,
  newUser,
  server,
}) => {
  await page.goto('/dashboard/');
  await page.getByLabel('Your name').fill('ops');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('dashboard-status')).toHaveAttribute('data-state', 'live');

  // Wait for the figure to settle on what /metrics says (connections from earlier specs may still close).
  const agreed = async () => {
    const [shown, metric] = [await shownConnections(page), await server.metric('switchboard_connections')];
    return shown === metric ? shown : Number.NaN;
  };
  await expect.poll(agreed, { timeout: SAMPLE_WAIT_MS }).not.toBeNaN();
  const base = await agreed();
  expect(base).toBeGreaterThanOrEqual(1);

  const first = await newUser('dash-user-1', 'chat', 'dashboard-room');
  await newUser('dash-user-2', 'chat', 'dashboard-room');
  await expect.poll(() => server.metric('switchboard_connections')).toBe(base + 2);
  await expect.poll(() => shownConnections(page), { timeout: SAMPLE_WAIT_MS }).toBe(base + 2);

  await first.context.close();
  await expect.poll(() => server.metric('switchboard_connections')).toBe(base + 1);
  await expect.poll(() => shownConnections(page), { timeout: SAMPLE_WAIT_MS }).toBe(base + 1);

  // Every chart has drawn its lines, and the per-instance table agrees with the total.
  for (const chart of ['chart-connections', 'chart-messages', 'chart-memory', 'chart-lag']) {
    await expect(page.getByTestId(chart).locator('.recharts-line-curve').first()).toBeVisible();
  }
  await expect(page.getByTestId('instance-row')).toHaveCount(1);
  await expect(page.getByTestId('instance-total').getByTestId('instance-connections')).toHaveText(
    String(base + 1),
  );
  await expect(page.getByTestId('total-rss')).toHaveText(/\d+(\.\d)? MiB/);

  await readmeScreenshot(page, 'dashboard', { fullPage: true });
});

test('the dashboard says it is disconnected when the server goes away, and recovers', async ({
  page,
  server,
}) => {
  await page.goto('/dashboard/');
  await page.getByLabel('Your name').fill('ops');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const status = page.getByTestId('dashboard-status');
  await expect(status).toHaveAttribute('data-state', 'live');
  const restarted = server.restart();
  await expect(status).toHaveAttribute('data-state', 'disconnected');
  await restarted;
  await expect(status).toHaveAttribute('data-state', 'live', { timeout: 20_000 });
});

test('the dashboard marks its figures stale when updates stop while connected, and live when they resume', async ({
  newUser,
}) => {
  const { page, network } = await newUser('ops', 'dashboard');
  const status = page.getByTestId('dashboard-status');
  await expect(status).toHaveAttribute('data-state', 'live');
  // A sample must have arrived first (right after a server start the snapshot can be empty).
  await expect(page.getByTestId('total-connections')).toHaveText(/\d/);

  // The server keeps sending deltas; they stop reaching the page, while pongs and the socket stay up.
  const resumeDeltas = network.dropServerFrames('"kind":"delta"');
  await expect(status).toHaveAttribute('data-state', 'stale');
  await expect(status).toContainText('Stale: no update for over 3 s');
  await expect(status).toContainText('last update');
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-status', 'open');

  resumeDeltas();
  await expect(status).toHaveAttribute('data-state', 'live');
});
