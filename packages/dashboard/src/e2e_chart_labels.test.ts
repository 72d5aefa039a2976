// End-to-end: chart labels never sit on the axes' tick labels. The Ablation view on its own small store,
// in headless Debian chromium at 1440x900 and 1280x720: one protocol where the frozen baseline is at 1 %
// (its line on the x axis of a percent scale), one at 99.5 % (at the top), one in between. The baseline's label, and the axis titles, must not intersect any tick label's box and
// must stay inside the chart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openPage } from './testing/chromium.ts';
import { RunStore, defaultConfig, mergeConfig } from '@ssmb/trainer';
import { buildServer, type DashboardServer } from './server.ts';
import { ensureWebBuild, WEB_OUT } from './build_web.ts';

/** Per protocol: Rank-1 of N = 1, 2, 4 and of the frozen baseline. */
const CASES = {
  // A percent axis stops at 0 and 100: a baseline of 1 % lies on the x axis, one of 99.5 % at the top.
  'synthetic-vis-nir': { ssmb: [0.2, 0.35, 0.5], baseline: 0.01 },
  'synthetic-vis-thermal': { ssmb: [0.6, 0.75, 0.9], baseline: 0.995 },
  'synthetic-vis-sketch': { ssmb: [0.3, 0.5, 0.7], baseline: 0.5 }, // in between
} as const;

let root: string;
let store: RunStore;
let srv: DashboardServer;
let base: string;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  await ensureWebBuild();
  root = mkdtempSync(path.join(tmpdir(), 'ssmb-dash-labels-'));
  store = RunStore.open(path.join(root, 'runs.sqlite'));
  const cfg = (o: unknown) => mergeConfig(defaultConfig(), o);
  for (const [protocol, c] of Object.entries(CASES)) {
    [1, 2, 4].forEach((n, i) => {
      const id = store.createRun({ experiment: 'labels', kind: 'train', method: 'ssmb', seed: 0, name: `N=${n} ${protocol}`, config: cfg({ method: 'ssmb', ssmb: { numExperts: n }, dataset: { protocol, fold: '1' } }) });
      store.recordEvaluation(id, { protocol, fold: '1', metrics: { rank1: { value: c.ssmb[i] } } });
      store.completeRun(id);
    });
    const b = store.createRun({ experiment: 'labels', kind: 'evaluate', method: 'baseline', seed: 0, name: `baseline ${protocol}`, config: cfg({ method: 'baseline', dataset: { protocol, fold: '1' } }) });
    store.recordEvaluation(b, { protocol, fold: '1', metrics: { rank1: { value: c.baseline } } });
    store.completeRun(b);
  }
  srv = await buildServer({ store, webRoot: WEB_OUT, tablesDir: null });
  base = await srv.app.listen({ host: '127.0.0.1', port: 0 });
  browser = await launchChromium();
  page = await openPage(browser, 1440, 900);
});

afterAll(async () => {
  await browser?.close();
  await srv?.app.close();
  store?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

interface Box { x: number; y: number; width: number; height: number; text: string }
const intersect = (a: Box, b: Box) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

/** Boxes of one panel's labels (reference-line label, axis titles), tick labels and the whole chart. */
async function panelBoxes(protocol: string) {
  const panel = page.locator(`[data-testid="ablation-chart"] .multiple[data-protocol="${protocol}"]`);
  return panel.evaluate((el) => {
    const box = (e: Element) => {
      const r = e.getBoundingClientRect();
      return { x: r.x, y: r.y, width: r.width, height: r.height, text: e.textContent ?? '' };
    };
    return {
      labels: [...el.querySelectorAll('.recharts-label')].map(box).filter((b) => b.text.trim() !== ''),
      ticks: [...el.querySelectorAll('.recharts-cartesian-axis-tick-value')].map(box).filter((b) => b.text.trim() !== ''),
      chart: box(el.querySelector('svg.recharts-surface')!),
    };
  });
}

describe('chart labels', () => {
  for (const [width, height] of [[1440, 900], [1280, 720]] as const) {
    it(`at ${width}x${height}: the frozen baseline's label and the axis titles intersect no tick label and stay in the chart`, async () => {
      await page.setViewportSize({ width, height });
      await page.goto(`${base}/#/ablation`);
      for (const protocol of Object.keys(CASES)) {
        const panel = page.locator(`[data-testid="ablation-chart"] .multiple[data-protocol="${protocol}"]`);
        await panel.locator('.recharts-label', { hasText: 'frozen baseline' }).waitFor();
        const { labels, ticks, chart } = await panelBoxes(protocol);
        expect(labels.map((l) => l.text)).toEqual(expect.arrayContaining([expect.stringMatching(/^frozen baseline /), 'Rank-1 (%)', 'ssmb.numExperts']));
        expect(ticks.length).toBeGreaterThan(4);
        for (const l of labels) {
          for (const t of ticks) expect(intersect(l, t), `${protocol}: label "${l.text}" on tick "${t.text}"`).toBe(false);
          expect(l.x >= chart.x && l.y >= chart.y && l.x + l.width <= chart.x + chart.width + 0.5 && l.y + l.height <= chart.y + chart.height + 0.5, `${protocol}: "${l.text}" inside the chart`).toBe(true);
        }
      }
    });
  }
});
