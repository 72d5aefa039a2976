// End-to-end: how a run page loads, in headless Debian chromium at 1280x720 against a real server on its
// own store: a run with 24 per-step keys (24 charts, most of them below the first screen). The title
// shows before the charts (their code downloads beside the data); the charts in view are drawn first and
// every chart is drawn without scrolling (the rest one by one when the browser is idle); no page errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openPage } from './testing/chromium.ts';
import { RunStore, defaultConfig, mergeConfig } from '@ssmb/trainer';
import { buildServer, type DashboardServer } from './server.ts';
import { ensureWebBuild, WEB_OUT } from './build_web.ts';

const KEYS = Array.from({ length: 24 }, (_, k) => `probe/k${String(k).padStart(2, '0')}`);
let root: string;
let store: RunStore;
let runId: number;
let srv: DashboardServer;
let base: string;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  await ensureWebBuild();
  root = mkdtempSync(path.join(tmpdir(), 'ssmb-dash-runload-'));
  store = RunStore.open(path.join(root, 'runs.sqlite'));
  runId = store.createRun({ experiment: 'load', kind: 'train', method: 'ssmb', seed: 0, name: 'many charts', config: mergeConfig(defaultConfig(), { dataset: { protocol: 'synthetic-vis-nir', fold: '1' } }) });
  store.logMetrics(runId, KEYS.flatMap((key, k) => Array.from({ length: 200 }, (_, step) => ({ key, step, value: Math.sin(step / 20 + k) }))));
  store.completeRun(runId);
  srv = await buildServer({ store, webRoot: WEB_OUT, tablesDir: null });
  base = await srv.app.listen({ host: '127.0.0.1', port: 0 });
  browser = await launchChromium();
  page = await openPage(browser, 1280, 720);
  page.on('pageerror', (e) => pageErrors.push(e.message));
  // The order charts are drawn in: the data-chart id of each chart when its first line appears.
  await page.addInitScript(() => {
    const order: string[] = [];
    (window as unknown as { drawOrder: string[] }).drawOrder = order;
    new MutationObserver(() => {
      for (const c of document.querySelectorAll('[data-chart]')) {
        const id = c.getAttribute('data-chart')!;
        if (!order.includes(id) && c.querySelector('.recharts-line path')) order.push(id);
      }
    }).observe(document, { subtree: true, childList: true });
  });
});

afterAll(async () => {
  await browser?.close();
  await srv?.app.close();
  store?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('run page loading', () => {
  it('shows the title, draws the charts in view first and every chart without scrolling', async () => {
    await page.goto(`${base}/#/runs/${runId}`);
    await page.getByTestId('run-title').filter({ hasText: 'many charts' }).waitFor();
    const charts = page.locator('[data-chart]');
    await expect(charts.count()).resolves.toBe(KEYS.length);
    // Every chart is drawn, the window never scrolled.
    await page.waitForFunction(() => [...document.querySelectorAll('[data-chart]')].every((c) => c.querySelector('.recharts-line path')));
    expect(await page.evaluate(() => window.scrollY)).toBe(0);
    const order = await page.evaluate(() => (window as unknown as { drawOrder: string[] }).drawOrder);
    expect([...order].sort()).toEqual(KEYS.map((k) => `other-${k}`).sort());
    // The first charts drawn are in the first screen; the last one drawn is far below it.
    const top = async (id: string) => page.locator(`[data-chart="${id}"]`).evaluate((el) => el.getBoundingClientRect().top);
    expect(await top(order[0])).toBeLessThan(720);
    expect(await top(order.at(-1)!)).toBeGreaterThan(720);
    expect(pageErrors).toEqual([]);
  });
});
