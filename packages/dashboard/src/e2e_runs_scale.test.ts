// The runs table at scale, end to end: a real server on a store of 3,000 runs of the scale grid (five
// worker tags on every run), headless Debian chromium at 1280x720. The table is one virtual list: the
// page holds a bounded number of rows whatever the store holds, scrolling to the end reads the pages on
// the way and shows the last run (and the last group), rows are dense and one line high with their tags,
// and the name column is readable at 1280 px.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openPage } from './testing/chromium.ts';
import { RunStore } from '@ssmb/trainer';
import { buildServer, type DashboardServer } from './server.ts';
import { ensureWebBuild, WEB_OUT } from './build_web.ts';
import { SCALE_GROUP_SIZE, scaleRun, seedScaleStore } from './testing/seed_scale.ts';

const RUNS = 3000;
/** Rows a window of 720 px may hold with the list's overscan, whatever the number of runs. */
const MAX_DOM_ROWS = 80;
let root: string;
let store: RunStore;
let ids: number[];
let srv: DashboardServer;
let base: string;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  await ensureWebBuild();
  root = mkdtempSync(path.join(tmpdir(), 'ssmb-dash-scale-'));
  const file = path.join(root, 'runs.sqlite');
  ids = seedScaleStore(file, RUNS);
  store = RunStore.open(file);
  srv = await buildServer({ store, webRoot: WEB_OUT, tablesDir: null });
  base = await srv.app.listen({ host: '127.0.0.1', port: 0 });
  browser = await launchChromium();
  page = await openPage(browser, 1280, 720);
  page.on('pageerror', (e) => pageErrors.push(e.message));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await srv?.app.close();
  store?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

const domRows = () => page.locator('[data-testid="runs-table"] tbody tr:not(.spacer)').count();

/** Scrolls the window down in steps (the way a wheel does) until the end marker shows. */
async function scrollToEnd(): Promise<number> {
  let steps = 0;
  while (!(await page.getByTestId('runs-end').isVisible())) {
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    await page.waitForTimeout(50);
    if (++steps > 400) throw new Error('the end of the runs list never showed');
  }
  return steps;
}

describe('runs table at 3,000 runs', () => {
  it('one row per run: dense one-line rows, a bounded DOM, and the last run at the end of the scroll', async () => {
    await page.goto(`${base}/#/runs?group=none`);
    await page.getByTestId('runs-count').filter({ hasText: `of ${RUNS}` }).waitFor();
    const first = page.locator(`tr[data-run-id="${ids.at(-1)}"]`); // newest first
    await first.waitFor();
    // Five worker tags on every run: still one line of 32-40 px, the tags compact.
    const height = await first.evaluate((tr) => tr.getBoundingClientRect().height);
    expect(height).toBeGreaterThanOrEqual(32);
    expect(height).toBeLessThanOrEqual(40);
    await expect(first.locator('.tag').count()).resolves.toBeLessThanOrEqual(3);
    // The name column is readable at 1280 px: a run's full name is shown whole, its tags beside it.
    const nameCell = first.locator('td.name-cell');
    expect(await nameCell.evaluate((td) => td.getBoundingClientRect().width)).toBeGreaterThanOrEqual(280);
    const name = first.locator('td.name-cell a').first();
    await expect(name.innerText()).resolves.toBe(scaleRun(RUNS - 1).name);
    expect(await name.evaluate((a) => a.scrollWidth <= a.clientWidth)).toBe(true);
    expect(await domRows()).toBeLessThanOrEqual(MAX_DOM_ROWS);
    // No "show more" button: scrolling reads page after page.
    await expect(page.getByRole('button', { name: /more/ }).count()).resolves.toBe(0);
    await scrollToEnd();
    await page.getByTestId('runs-end').filter({ hasText: `${RUNS} runs` }).waitFor();
    await page.locator(`tr[data-run-id="${ids[0]}"]`).waitFor(); // the oldest run, last in the list
    expect(await domRows()).toBeLessThanOrEqual(MAX_DOM_ROWS);
    // A jump to the end reads the pages in view, not the thousands of rows skipped over.
    const loaded = Number(/^(\d+) of/.exec(await page.getByTestId('runs-count').innerText())![1]);
    expect(loaded).toBeLessThanOrEqual(3 * 200);
    // Back to the top: the newest run again.
    await page.evaluate(() => window.scrollTo(0, 0));
    await first.waitFor();
  });

  it('grouped over folds and seeds: the last group at the end of the scroll; an expanded group shows its runs', async () => {
    await page.goto(`${base}/#/runs?sort=id`);
    const groups = (await (await fetch(`${base}/api/runs/groups?limit=1`)).json()).total as number;
    // One group per configuration: a baseline's per protocol (it trains nothing: no N, no learning rate).
    const configs = new Set(Array.from({ length: RUNS }, (_, i) => scaleRun(i)).map((r) => (r.baseline ? r.protocol : `${r.protocol} ${r.experts} ${r.lr}`)));
    expect(groups).toBe(configs.size);
    await page.getByTestId('runs-count').filter({ hasText: `of ${groups} groups · ${RUNS} runs` }).waitFor();
    const top = page.locator('tbody tr.group-row').first();
    await top.getByRole('button', { name: /expand/ }).click();
    await page.locator('tbody tr.member').nth(SCALE_GROUP_SIZE - 1).waitFor(); // five folds, two seeds
    expect(await domRows()).toBeLessThanOrEqual(MAX_DOM_ROWS);
    await scrollToEnd();
    await page.getByTestId('runs-end').filter({ hasText: `${groups} groups` }).waitFor();
    // The oldest run's group is last (newest run first): the first configuration seeded, its folds and seeds.
    const last = page.locator('tbody tr.group-row').last();
    await expect(last.getByTestId('group-n').innerText()).resolves.toBe(`${SCALE_GROUP_SIZE} runs`);
    await expect(last.locator('td.name-cell').innerText()).resolves.toContain('N=1');
    expect(await domRows()).toBeLessThanOrEqual(MAX_DOM_ROWS);
    expect(pageErrors).toEqual([]);
  });
});
