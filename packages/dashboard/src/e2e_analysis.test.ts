// End-to-end in headless Debian chromium against a real server on the seeded store: routing compared across
// runs and folds (#/routing), and the run page's evaluation panels beyond the curves.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { checkedShot, launchChromium, openPage } from './testing/chromium.ts';
import { defaultConfig, mergeConfig } from '@ssmb/trainer';
import { buildServer, type DashboardServer } from './server.ts';
import { ensureWebBuild, PACKAGE_ROOT, WEB_OUT } from './build_web.ts';
import { BLOCKS, MODALITIES, seedStore, type SeededStore } from './testing/seed.ts';
import { routingNmi } from './web/format.ts';
import { addEvaluatedRun, type SyntheticFold } from './testing/eval_samples.ts';

const SHOTS = path.join(PACKAGE_ROOT, 'test-artifacts');

let root: string;
let seeded: SeededStore;
let srv: DashboardServer;
let base: string;
let browser: Browser;
let page: Page;
/** N = 4, but every image goes to expert 0 or 1: experts 2 and 3 unused. */
let collapsedId: number;
/** Evaluated for real from synthetic embeddings: 120 identities x (2 VIS gallery + 3 NIR probe) = 600 images. */
const FOLD: SyntheticFold = { identities: 120, galleryPerId: 2, probePerId: 3, dim: 16, noise: 0.6, seed: 'e2e' };
let clusteredId: number;
/** The same identities with more noise: genuine and impostor scores overlap more. */
let noisyId: number;

beforeAll(async () => {
  await ensureWebBuild();
  mkdirSync(SHOTS, { recursive: true });
  root = mkdtempSync(path.join(tmpdir(), 'ssmb-dash-analysis-'));
  seeded = seedStore(path.join(root, 'store'));
  const s = seeded.store;
  collapsedId = s.createRun({
    experiment: 'collapse', kind: 'train', method: 'ssmb', seed: 0, name: 'ssmb N=4 two experts used',
    config: mergeConfig(defaultConfig(), { method: 'ssmb', ssmb: { numExperts: 4 }, dataset: { protocol: 'synthetic-vis-nir', fold: '1' } }),
  });
  s.recordEvaluation(collapsedId, {
    protocol: 'synthetic-vis-nir', fold: '1', metrics: { rank1: { value: 0.5 } },
    routing: [{ block: 'stem', modality: 'VIS', expert: 0, count: 30 }, { block: 'stem', modality: 'NIR', expert: 1, count: 30 }],
  });
  s.completeRun(collapsedId);
  clusteredId = addEvaluatedRun(s, 'clustered', 'synthetic-vis-nir', '1', FOLD);
  noisyId = addEvaluatedRun(s, 'noisy', 'synthetic-vis-nir', '1', { ...FOLD, noise: 1.5 }, 4);
  srv = await buildServer({ store: s, webRoot: WEB_OUT, pollMs: 200, tablesDir: null });
  base = await srv.app.listen({ host: '127.0.0.1', port: 0 });
  browser = await launchChromium();
  page = await openPage(browser, 1440, 900);
});

afterAll(async () => {
  await browser?.close();
  await srv?.app.close();
  seeded?.store.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

const shot = (name: string) => checkedShot(page, SHOTS, name);

/** The seeded SSMB run's counts per block: modality m sends 40 images to expert m mod N, 5 to each other one. */
const seededNmi = (n: number) => routingNmi(MODALITIES.map((_, mi) => Array.from({ length: n }, (_, e) => (e === mi % n ? 40 : 5))))!;

describe('routing across runs and folds', () => {
  it('a configuration over its folds in one click; per run, fold and block its NMI; unused experts flagged; the run page links there; unknown ids named', async () => {
    const id = seeded.runs.get('4/synthetic-vis-nir/1')!;
    const fold2 = seeded.runs.get('4/synthetic-vis-nir/2')!;
    await page.goto(`${base}/#/runs/${id}`);
    await page.getByTestId('routing-across').click();
    const rows = page.locator('[data-testid="routing-compare"] tbody tr');
    await rows.first().waitFor();
    expect(page.url()).toContain(`#/routing?ids=${id}`);
    await expect(rows.count()).resolves.toBe(1);
    // The runs list's group of this configuration (both folds) in one click.
    await page.getByRole('button', { name: /^ssmb · N=4 · model=iresnet-tiny .*synthetic-vis-nir \(2\)$/ }).click();
    await page.locator(`[data-testid="routing-compare"] tr[data-run-id="${fold2}"]`).waitFor();
    expect(page.url()).toContain(`#/routing?ids=${id},${fold2}`);
    await expect(rows.count()).resolves.toBe(2);
    await expect(rows.nth(1).locator('td').nth(2).innerText()).resolves.toBe('synthetic-vis-nir / 2');
    for (const b of BLOCKS) await expect(rows.nth(0).locator(`td[data-block="${b}"]`).getByTestId('routing-nmi').innerText()).resolves.toBe(seededNmi(4).toFixed(2));
    await expect(page.locator('[data-routing-run]').count()).resolves.toBe(2);
    // N = 1 beside N = 4: one expert carries no modality information.
    await page.getByRole('button', { name: /^ssmb · N=1 · model=iresnet-tiny .*synthetic-vis-nir \(2\)$/ }).click();
    await rows.nth(3).waitFor();
    const n1 = seeded.runs.get('1/synthetic-vis-nir/1')!;
    await expect(page.locator(`[data-testid="routing-compare"] tr[data-run-id="${n1}"]`).getByTestId('routing-nmi').first().innerText()).resolves.toBe('0.00');
    await shot('40-routing-compare');
    await page.goto(`${base}/#/routing?ids=${collapsedId},9998,9999`);
    await page.getByTestId('unknown-runs').filter({ hasText: 'Runs 9998, 9999 are not in this store' }).waitFor();
    const collapsed = page.locator(`[data-testid="routing-compare"] tr[data-run-id="${collapsedId}"]`);
    await collapsed.getByTestId('routing-unused').filter({ hasText: 'unused: expert 2, expert 3' }).waitFor();
    await expect(collapsed.getByTestId('routing-nmi').innerText()).resolves.toBe('1.00');
    await expect(page.locator(`[data-routing-run="${collapsedId}"] table.heat th.unused`).allInnerTexts()).resolves.toEqual(['expert 2', 'expert 3']);
    await page.setViewportSize({ width: 390, height: 844 });
    await shot('40-routing-390');
    await page.setViewportSize({ width: 1440, height: 900 });
  });
});

describe('score histograms', () => {
  it('the run page draws genuine and impostor scores per fold with their counts; a run without them shows no panel', async () => {
    await page.goto(`${base}/#/runs/${clusteredId}`);
    const chart = page.locator('[data-testid="score-histograms"] [data-protocol="synthetic-vis-nir"][data-fold="1"]').getByTestId('score-histogram');
    await chart.locator('.recharts-area').nth(1).waitFor();
    // 360 probes against their own template, and against the 119 others.
    await expect(chart.locator('.recharts-legend-item-text').allInnerTexts()).resolves.toEqual(['genuine (n=360)', 'impostor (n=42,840)']);
    await expect(chart.locator('.recharts-area-area').count()).resolves.toBe(2);
    await expect(chart.getByTestId('scores-outside').count()).resolves.toBe(0);
    await chart.scrollIntoViewIfNeeded();
    await shot('41-run-score-histograms');
    await page.getByTestId('score-histograms').screenshot({ path: path.join(SHOTS, '41-score-histograms-panel.png') });
    await page.goto(`${base}/#/runs/${seeded.runs.get('4/synthetic-vis-nir/1')}`);
    await page.getByTestId('run-title').filter({ hasText: 'ssmb N=4 synthetic-vis-nir/1' }).waitFor();
    await page.getByTestId('routing-heatmap').waitFor();
    await page.waitForTimeout(300);
    await expect(page.getByTestId('score-histograms').count()).resolves.toBe(0);
  });

  it('Compare overlays the configurations\' histograms per protocol, in their columns\' colours', async () => {
    await page.goto(`${base}/#/compare?ids=${clusteredId},${noisyId}`);
    const chart = page.locator('[data-testid="compare-score-histograms"] [data-protocol="synthetic-vis-nir"]').getByTestId('compare-score-histogram');
    await chart.locator('.recharts-area').nth(3).waitFor();
    const legend = await chart.locator('.recharts-legend-item-text').allInnerTexts();
    expect(legend).toHaveLength(4);
    expect(legend.filter((t) => t.endsWith('genuine (n=360)'))).toHaveLength(2);
    expect(legend.filter((t) => t.endsWith('impostor (n=42,840)'))).toHaveLength(2);
    expect(legend[0]).toMatch(/N=2/);
    expect(legend[2]).toMatch(/N=4/);
    await chart.scrollIntoViewIfNeeded();
    await shot('42-compare-score-histograms');
  });
});

describe('embedding map', () => {
  it('the run page projects the sampled gallery and probe embeddings when scrolled to, says how many of how many, colours by modality or identity', async () => {
    await page.goto(`${base}/#/runs/${clusteredId}`);
    const panel = page.getByTestId('embedding-panel');
    await panel.waitFor();
    await expect(panel.getByTestId('embedding-count').innerText()).resolves.toBe('synthetic-vis-nir / 1: 500 of 600 images sampled (100 of 120 identities; gallery 200 of 240, probe 300 of 360)');
    await panel.scrollIntoViewIfNeeded();
    await panel.getByTestId('embedding-drawn').filter({ hasText: '500 points drawn' }).waitFor({ timeout: 60_000 });
    const pts = panel.locator('[data-testid="embedding-svg"] .pt');
    await expect(pts.count()).resolves.toBe(500);
    await expect(panel.locator('[data-testid="embedding-svg"] .pt[data-role="gallery"]').count()).resolves.toBe(200);
    const fills = async () => new Set(await pts.evaluateAll((els) => els.map((e) => e.getAttribute('fill'))));
    await expect(fills()).resolves.toHaveProperty('size', 2); // VIS and NIR
    await expect(panel.getByTestId('embedding-legend').innerText()).resolves.toMatch(/VIS[\s\S]*NIR/);
    await shot('43-run-embedding-map');
    await panel.screenshot({ path: path.join(SHOTS, '43-embedding-panel.png') });
    await panel.getByLabel('colour by identity').check();
    await panel.getByTestId('embedding-legend').filter({ hasText: 'one colour per identity (100 identities)' }).waitFor();
    await expect(fills()).resolves.toHaveProperty('size', 100);
    // Seeded: the same sample gives the same map on a fresh page.
    const positions = () => pts.evaluateAll((els) => els.map((e) => `${e.getAttribute('x') ?? e.getAttribute('cx')},${e.getAttribute('y') ?? e.getAttribute('cy')}`));
    const first = await positions();
    await page.reload();
    await panel.scrollIntoViewIfNeeded();
    await panel.getByTestId('embedding-drawn').waitFor({ timeout: 60_000 });
    await expect(positions()).resolves.toEqual(first);
    // Down to a 390-px phone screen: the histograms and the map fit the window.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await panel.scrollIntoViewIfNeeded();
    await panel.getByTestId('embedding-drawn').waitFor({ timeout: 60_000 });
    await page.getByTestId('score-histograms').getByTestId('score-histogram').locator('.recharts-area').nth(1).waitFor();
    await shot('43-run-evaluation-panels-390');
    await page.setViewportSize({ width: 1440, height: 900 });
  });
});
