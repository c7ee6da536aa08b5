/**
 * Screenshots the README embeds (e2e/screenshots/*.png). Every run saves them in the test's output folder
 * (test-results/) for inspection; only a run with `UPDATE_SCREENSHOTS=1` copies them over the committed
 * files, so an ordinary run leaves the working tree clean. Through `pnpm test:e2e`, turbo's strict env mode
 * hands the variable on only when turbo.json lists it for `test:e2e` (else add `--env-mode=loose`).
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Page, type PageScreenshotOptions, test } from '@playwright/test';

/** Set to `1` to refresh the README's screenshots. */
export const UPDATE_SCREENSHOTS_ENV = 'UPDATE_SCREENSHOTS';
const README_SCREENSHOTS_DIR = join(import.meta.dirname, '..', 'screenshots');

/** Takes `<name>.png` of the page into the current test's output folder, and into the README's when asked. */
export async function readmeScreenshot(
  page: Page,
  name: 'chat' | 'dashboard' | 'collab',
  options: Omit<PageScreenshotOptions, 'path'> = {},
): Promise<void> {
  const path = test.info().outputPath(`${name}.png`);
  await page.screenshot({ ...options, path });
  if (process.env[UPDATE_SCREENSHOTS_ENV] === '1') {
    copyFileSync(path, join(README_SCREENSHOTS_DIR, `${name}.png`));
  }
}
