// Chromium for the dashboard's browser tests: the Debian package (.ci/run installs it), driven by
// playwright-core, with one timeout for every test. CI runs the packages side by side on 2 cores, so a
// page can take long to draw without being wrong: waits are for selectors, bounded by this timeout.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const BROWSER_TIMEOUT_MS = 45_000;

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install it with \`apt-get update && apt-get install -y chromium\` (.ci/run does)`);
  return chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'] });
}

/** A page of `width` x `height` with the suite's timeout. */
export async function openPage(browser: Browser, width: number, height: number, opts: { acceptDownloads?: boolean } = {}): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height }, ...opts });
  page.setDefaultTimeout(BROWSER_TIMEOUT_MS);
  return page;
}

/** The page has no sideways overflow at its width; then a full-page screenshot `dir/name.png` from the top
 *  (the sticky header where it belongs). */
export async function checkedShot(page: Page, dir: string, name: string): Promise<void> {
  await page.waitForTimeout(250);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow, `${name}: the page is ${overflow}px wider than the window`).toBeLessThanOrEqual(0);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}
