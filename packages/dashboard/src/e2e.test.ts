// End-to-end: serve a seeded store over real HTTP and drive every view in headless Debian chromium at
// 1440x900, as the researchers did. Every view: no sideways page overflow, every chart titles
// both axes. Screenshots go to packages/dashboard/test-artifacts/ (gitignored), and also to
// $SSMB_SCREENS_DIR when set.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openPage } from './testing/chromium.ts';
import { RunStore, runWorker, silentProgress } from '@ssmb/trainer';
import { buildServer, type DashboardServer } from './server.ts';
import { ensureWebBuild, PACKAGE_ROOT, WEB_OUT } from './build_web.ts';
import { GENUINE, seedStore, STEPS, type SeededStore } from './testing/seed.ts';

const E2E_TOKEN = 'e2e-token-0123456789';
const SHOTS = path.join(PACKAGE_ROOT, 'test-artifacts');
const SCREENS = process.env.SSMB_SCREENS_DIR;
let root: string;
let seeded: SeededStore;
let srv: DashboardServer;
let tokened: DashboardServer;
let base: string;
let tokenedBase: string;
let browser: Browser;
let page: Page;
let staleId: number;

/** A table config the seeded runs match (like tables/synthetic.yaml for the quickstart's runs). */
const TABLE_YAML = `name: seeded
title: "Seeded store: frozen baseline vs SSMB (N experts)"
metrics: [rank1, tar_far_1e2, eer]
datasets:
  synthetic: { root: null }
base:
  backbone: { model: iresnet-tiny }
rows:
  - { id: baseline, label: "Frozen baseline", set: { method: baseline } }
  - { id: n1, label: "SSMB N=1", set: { method: ssmb, ssmb.numExperts: 1 } }
  - { id: n2, label: "SSMB N=2", set: { method: ssmb, ssmb.numExperts: 2 } }
  - { id: n4, label: "SSMB N=4", set: { method: ssmb, ssmb.numExperts: 4 } }
columns:
  - { id: nir, label: VIS-NIR, dataset: synthetic, protocol: synthetic-vis-nir, folds: ["1", "2"] }
  - { id: thermal, label: VIS-THERMAL, dataset: synthetic, protocol: synthetic-vis-thermal, folds: ["1", "2"] }
`;

beforeAll(async () => {
  await ensureWebBuild();
  mkdirSync(SHOTS, { recursive: true });
  if (SCREENS) mkdirSync(SCREENS, { recursive: true });
  root = mkdtempSync(path.join(tmpdir(), 'ssmb-dash-e2e-'));
  seeded = seedStore(path.join(root, 'store'));
  // A run whose worker died: running, lease expired a minute ago.
  staleId = seeded.store.createRun({ experiment: 'experts-ablation', kind: 'noop', config: {}, seed: 9, name: 'worker died' });
  seeded.store.claimRun('crashed-host:123', -60_000, { runId: staleId });
  mkdirSync(path.join(root, 'tables'));
  writeFileSync(path.join(root, 'tables', 'seeded.yaml'), TABLE_YAML);
  // The same table with six metrics: 12 cells side by side would not fit, so it is one table per metric.
  writeFileSync(path.join(root, 'tables', 'seeded-wide.yaml'), TABLE_YAML.replace('name: seeded', 'name: seeded-wide').replace('metrics: [rank1, tar_far_1e2, eer]', 'metrics: [rank1, rank5, tar_far_1e2, tar_far_1e3, eer, auc]'));
  srv = await buildServer({ store: seeded.store, webRoot: WEB_OUT, pollMs: 200, tablesDir: path.join(root, 'tables') });
  base = await srv.app.listen({ host: '127.0.0.1', port: 0 });
  tokened = await buildServer({ store: seeded.store, webRoot: WEB_OUT, pollMs: 200, token: E2E_TOKEN, tablesDir: null });
  tokenedBase = await tokened.app.listen({ host: '127.0.0.1', port: 0 });
  browser = await launchChromium();
  page = await openPage(browser, 1440, 900, { acceptDownloads: true });
});

afterAll(async () => {
  await browser?.close();
  await srv?.app.close();
  await tokened?.app.close();
  seeded?.store.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

const cellTexts = (selector: string) => page.locator(selector).allInnerTexts();
/** Texts of SVG elements (innerText is for HTML elements only). */
const svgTexts = (selector: string) => page.locator(selector).allTextContents();
const Y_TICKS = '.recharts-yAxis-tick-labels .recharts-cartesian-axis-tick-value';

/** The checks every view must pass, then its screenshot. */
async function checkView(name: string): Promise<void> {
  await page.waitForTimeout(300); // let charts measure their containers
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow, `${name}: the page is ${overflow}px wider than the 1440px window`).toBeLessThanOrEqual(0);
  // Every chart titles both axes (x and y labels are recharts-label texts in the axes).
  const charts = await page.locator('.recharts-wrapper').evaluateAll((els) =>
    els.map((el) => ({
      id: el.closest('[data-chart]')?.getAttribute('data-chart') ?? el.closest('[data-testid]')?.getAttribute('data-testid') ?? '?',
      labels: [...el.querySelectorAll('text.recharts-label')].filter((t) => !t.closest('.recharts-reference-line') && !/^frozen baseline/.test(t.textContent ?? '')).length,
    })),
  );
  for (const c of charts) expect(c.labels, `${name}: chart ${c.id} has ${c.labels} axis titles`).toBeGreaterThanOrEqual(2);
  const file = path.join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  if (SCREENS) copyFileSync(file, path.join(SCREENS, `${name}.png`));
}

/** A table fits its panel: no scrollbar needed inside it at 1440 px. */
async function fitsPanel(testId: string): Promise<void> {
  const sizes = await page.getByTestId(testId).evaluate((el) =>
    (el.tagName === 'TABLE' ? [el] : [...el.querySelectorAll('table')]).map((t) => ({ table: t.scrollWidth, box: (t.parentElement!.closest('.scroll-x, .panel') as HTMLElement).clientWidth })),
  );
  expect(sizes.length).toBeGreaterThan(0);
  for (const { table, box } of sizes) expect(table, `${testId}: a table is ${table}px wide in a ${box}px panel`).toBeLessThanOrEqual(box);
}

describe('dashboard in chromium', () => {
  it('Runs: metrics with units, N and fold only where they apply, stale runs flagged; sort, filter, bulk tag, archive, restore', async () => {
    await page.goto(`${base}/#/runs?group=none`);
    await page.getByTestId('runs-count').filter({ hasText: '21 of 21' }).waitFor();
    const n4 = seeded.runs.get('4/synthetic-vis-nir/2')!;
    const row = page.locator(`tr[data-run-id="${n4}"]`);
    await row.locator('td[data-metric="rank1"]').filter({ hasText: /^82\.00$/ }).waitFor();
    await expect(row.innerText()).resolves.toContain('iresnet-tiny');
    const headers = await cellTexts('[data-testid="runs-table"] thead th');
    expect(headers).toEqual(expect.arrayContaining(['Rank-1\n%', 'TAR@FAR=1%\n%', 'EER\n%']));
    const baseline = page.locator(`tr[data-run-id="${seeded.baselineIds[0]}"]`);
    await expect(baseline.locator('td[data-col="N"]').innerText()).resolves.toBe('–');
    const pre = page.locator(`tr[data-run-id="${seeded.pretrainId}"]`);
    await expect(pre.locator('td[data-col="protocol"]').innerText()).resolves.toBe('synthetic-pretrain-vis');
    await expect(page.locator(`tr[data-run-id="${staleId}"] [data-status="stale"]`).count()).resolves.toBe(1);
    await expect(row.locator('td[data-col="latest"]').innerText()).resolves.toMatch(/^[\d.]+ · [\d.]+$/);
    await fitsPanel('runs-table');
    await page.locator('th[data-sort="rank1"]').click(); // desc on first click
    await page.locator('tbody tr').first().locator('td[data-metric="rank1"]').filter({ hasText: '82.00' }).waitFor();
    await page.getByLabel('search').fill('thermal');
    await page.getByTestId('runs-count').filter({ hasText: '9 of 9' }).waitFor();
    await page.getByLabel('search').fill('');
    await page.getByTestId('runs-count').filter({ hasText: '21 of 21' }).waitFor();
    // Tag one run (the prompt takes key=value), then tag two at once.
    page.once('dialog', (d) => void d.accept('best=yes'));
    await row.getByRole('button', { name: '+tag' }).click();
    await row.locator('.tag', { hasText: 'best=yes' }).waitFor();
    const a = seeded.runs.get('1/synthetic-vis-thermal/1')!;
    const b = seeded.runs.get('2/synthetic-vis-thermal/1')!;
    await page.getByLabel(`select run ${a}`, { exact: true }).check();
    await page.getByLabel(`select run ${b}`, { exact: true }).check();
    page.once('dialog', (d) => void d.accept('batch=7'));
    await page.getByTestId('bulk-tag').click();
    for (const id of [a, b]) await page.locator(`tr[data-run-id="${id}"] .tag`, { hasText: 'batch=7' }).waitFor();
    // Archive the selection, find it among the archived runs, restore it.
    await page.getByTestId('bulk-archive').click();
    await page.getByTestId('runs-count').filter({ hasText: '19 of 19' }).waitFor();
    await page.getByLabel('archived').selectOption('only');
    await page.getByTestId('runs-count').filter({ hasText: '2 of 2' }).waitFor();
    await page.getByLabel('select all shown').check();
    await page.getByTestId('bulk-restore').click();
    await page.getByTestId('runs-count').filter({ hasText: '0 of 0' }).waitFor();
    await page.getByLabel('archived').selectOption('exclude');
    await page.getByTestId('runs-count').filter({ hasText: '21 of 21' }).waitFor();
    await checkView('01-runs');
  });

  it('Run detail: grouped charts with titled axes, a constant lr drawn flat, n and no "± 0.00" for one fold, FMR/FNMR, CMC within 100%, routing with VIS and a scale', async () => {
    const id = seeded.runs.get('4/synthetic-vis-nir/1')!;
    await page.goto(`${base}/#/runs/${id}`);
    await page.getByTestId('run-title').filter({ hasText: `#${id}` }).waitFor();
    await expect(page.getByTestId('config').innerText()).resolves.toMatch(/ssmb\.numExperts\s+4/);
    const charts = await page.locator('[data-chart]').evaluateAll((els) => els.map((e) => e.getAttribute('data-chart')));
    expect(charts).toEqual(['losses', 'routing-entropy', 'routing-share-stem', 'routing-share-layer1', 'lr', 'perf-img_per_sec', 'perf-step_seconds']);
    await page.locator('[data-chart="lr"] path.recharts-curve').first().waitFor({ state: 'attached' }); // flat: zero height
    expect(await page.locator('[data-chart="losses"] path.recharts-curve').count()).toBeGreaterThanOrEqual(4);
    // Every point of every key is counted: 7 trainer keys + 2 blocks x (1 entropy + 4 shares).
    const keys = 7 + 2 * 5;
    await page.getByTestId('points-plotted').filter({ hasText: `plotting ${(keys * STEPS).toLocaleString('en-US')} of ${(keys * STEPS).toLocaleString('en-US')} points` }).waitFor();
    const lrTicks = await svgTexts(`[data-chart="lr"] ${Y_TICKS}`);
    expect(new Set(lrTicks).size, `lr ticks ${lrTicks}`).toBe(lrTicks.length);
    expect(lrTicks.length).toBeGreaterThan(1);
    await page.getByTestId('eval-table').filter({ hasText: '80.00' }).waitFor();
    const body = await page.locator('main').innerText();
    expect(body).not.toContain('± 0.00');
    await expect(page.getByTestId('eval-table').innerText()).resolves.toContain(GENUINE.toLocaleString('en-US'));
    await expect(page.getByTestId('eval-table').innerText()).resolves.not.toContain(`${GENUINE}.0`);
    for (const chart of ['roc-chart', 'det-chart', 'cmc-chart']) {
      expect(await page.locator(`[data-testid="${chart}"] path.recharts-curve`).count(), chart).toBeGreaterThanOrEqual(1);
    }
    await expect(svgTexts('[data-testid="det-chart"] text.recharts-label')).resolves.toEqual(expect.arrayContaining(['FMR', 'FNMR']));
    await expect(svgTexts('[data-testid="roc-chart"] text.recharts-label')).resolves.toEqual(expect.arrayContaining(['TAR', 'FAR (log)']));
    const cmcTicks = await svgTexts(`[data-testid="cmc-chart"] ${Y_TICKS}`);
    expect(new Set(cmcTicks).size).toBe(cmcTicks.length);
    expect(Math.max(...cmcTicks.map((t) => Number.parseFloat(t)))).toBeLessThanOrEqual(100);
    const stem = page.locator('table.heat[data-block="stem"]');
    await expect(stem.locator('tbody th').allInnerTexts()).resolves.toEqual(['VIS', 'NIR', 'THERMAL']);
    await expect(stem.locator('tr', { hasText: 'NIR' }).locator('td').allInnerTexts()).resolves.toEqual(['9%\n5', '73%\n40', '9%\n5', '9%\n5']);
    await page.getByTestId('routing-scale').waitFor();
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    expect(height, 'the run page height').toBeLessThan(3200);
    await checkView('02-run-detail');
    // A pre-training run: its own constant lr also flat, no N, no routing.
    await page.goto(`${base}/#/runs/${seeded.pretrainId}`);
    await page.locator('[data-chart="lr"] path.recharts-curve').first().waitFor({ state: 'attached' });
    const preTicks = await svgTexts(`[data-chart="lr"] ${Y_TICKS}`);
    expect(new Set(preTicks).size).toBe(preTicks.length);
  });

  it("Live: a running run's curves and progress update without a reload, keeping the view state", async () => {
    await page.goto(`${base}/#/runs/${seeded.runningId}`);
    await page.getByTestId('points-plotted').filter({ hasText: 'plotting 1 of 1 points' }).waitFor();
    await page.getByLabel('smoothing').fill('0.9');
    seeded.store.logMetrics(seeded.runningId, Array.from({ length: 50 }, (_, i) => ({ key: 'loss', step: i + 1, value: 1 / (i + 2) })));
    seeded.store.heartbeat(seeded.runningId, 'test-worker', 3_600_000, 51);
    await page.getByTestId('points-plotted').filter({ hasText: 'plotting 51 of 51 points' }).waitFor();
    await expect(page.getByLabel('smoothing').inputValue()).resolves.toBe('0.9');
    await page.getByTestId('run-step').filter({ hasText: /^51 \/ 300$/ }).waitFor();
  });

  it('Cancel: the button stops a run a real worker is running; the worker checkpoints and marks it cancelled', async () => {
    // The stale run says what happened to it (before a worker's claim re-queues it).
    await page.goto(`${base}/#/runs/${staleId}`);
    await expect(page.getByTestId('stale-note').innerText()).resolves.toMatch(/lease expired .* ago .*worker crashed-host:123/);
    const id = seeded.store.createRun({ experiment: 'cancel-e2e', kind: 'noop', config: { steps: 100_000 }, seed: 0, name: 'long noop', totalSteps: 100_000 });
    const worker = runWorker({ store: seeded.file, runId: id, progress: silentProgress, log: () => {}, handleSignals: false, heartbeatMs: 200 });
    while (seeded.store.getRun(id)!.step < 5) await new Promise((r) => setTimeout(r, 50));
    await page.goto(`${base}/#/runs/${id}`);
    await page.getByTestId('cancel-run').click();
    await page.locator('[data-status="cancelled"]').first().waitFor();
    const summary = await worker;
    expect(summary.cancelled).toEqual([id]);
    expect(seeded.store.latestCheckpoint(id)!.step).toBe(seeded.store.getRun(id)!.step);
  });

  it('Compare: config differences, n instead of "± 0.00", legends named by what differs, no legend for a run without data, grouped bands', async () => {
    const a = seeded.runs.get('1/synthetic-vis-nir/1')!;
    const b = seeded.runs.get('4/synthetic-vis-nir/1')!;
    await page.goto(`${base}/#/runs?group=none`);
    await page.getByLabel(`select run ${a}`, { exact: true }).check();
    await page.getByLabel(`select run ${b}`, { exact: true }).check();
    await page.getByTestId('compare-selected').click();
    await page.getByTestId('config-diff').waitFor();
    expect(page.url()).toContain(`ids=${a},${b}`);
    await expect(cellTexts('[data-testid="config-diff"] tbody td:first-child')).resolves.toEqual(['ssmb.numExperts']);
    // One column per run (the runs list was not grouped): each run's fold, the leader bold.
    await page.getByTestId('compare-metrics').filter({ hasText: /Rank-1 \(%\)\s*60\.00\s*Δ −20\.00 \[.*\]\s*80\.00/ }).waitFor();
    await page.getByTestId('compare-points').filter({ hasText: `plotting ${2 * STEPS} of ${2 * STEPS} points` }).waitFor();
    await expect(cellTexts('[data-testid="compare-curves"] .recharts-legend-item-text')).resolves.toEqual([`#${a} numExperts=1`, `#${b} numExperts=4`]);
    await expect(page.getByTestId('compare-curves').innerText()).resolves.not.toMatch(/#\d+ loss/);
    await fitsPanel('compare-metrics');
    await expect(page.getByTestId('compare-latest').innerText()).resolves.toMatch(/loss\s+[\d.]+ · [\d.]+/);
    await checkView('03-compare');
    // A run that logged no loss: no legend entry, said so.
    await page.goto(`${base}/#/compare?ids=${a},${b},${seeded.queuedId}`);
    await page.getByTestId('no-data').filter({ hasText: `#${seeded.queuedId}` }).waitFor();
    await expect(page.locator('[data-testid="compare-curves"] .recharts-legend-item-text').count()).resolves.toBe(2);
    // Grouped by N over folds and protocols: one band per N.
    const ids = ['1', '2', '4'].flatMap((n) => ['synthetic-vis-nir/1', 'synthetic-vis-nir/2'].map((pf) => seeded.runs.get(`${n}/${pf}`)!));
    await page.goto(`${base}/#/compare?ids=${ids.join(',')}`);
    await page.getByLabel('group by').selectOption('ssmb.numExperts');
    await page.getByTestId('compare-bands').locator('.recharts-area').first().waitFor();
    await expect(cellTexts('[data-testid="compare-bands"] .recharts-legend-item-text')).resolves.toEqual(['ssmb.numExperts=1 (n=2)', 'ssmb.numExperts=2 (n=2)', 'ssmb.numExperts=4 (n=2)']);
    await checkView('03b-compare-grouped');
  });

  it('Ablation: one panel per protocol with the frozen baseline as a reference line; error bars inside the plot; only SSMB runs grouped by N', async () => {
    await page.goto(`${base}/#/ablation`);
    const table = page.getByTestId('ablation-table');
    await table.locator('tbody tr').nth(3).waitFor();
    await expect(cellTexts('[data-testid="ablation-table"] tbody td:first-child')).resolves.toEqual(['frozen baseline', '1', '2', '4']);
    await table.locator('tbody tr').nth(3).filter({ hasText: /4\s*81\.00 ± 1\.41\s*n=2\s*\+20\.00\s*71\.00 ± 1\.41\s*n=2/ }).waitFor();
    const panels = page.locator('[data-testid="ablation-chart"] .multiple');
    await expect(panels.count()).resolves.toBe(2);
    for (let i = 0; i < 2; i++) {
      const p = panels.nth(i);
      await expect(p.locator('.recharts-reference-line').count()).resolves.toBe(1);
      await expect(svgTexts(`[data-protocol="${await p.getAttribute('data-protocol')}"] text.recharts-label`)).resolves.toContain('frozen baseline 40.00');
      expect(await p.locator('.recharts-errorBar').count()).toBeGreaterThanOrEqual(3);
      // Error bars are drawn inside the plot area (none cut off at the ends).
      const inside = await p.evaluate((el) => {
        const grid = el.querySelector('.recharts-cartesian-grid')!.getBoundingClientRect();
        return [...el.querySelectorAll('.recharts-errorBar line')].every((l) => {
          const r = l.getBoundingClientRect();
          return r.left >= grid.left - 0.5 && r.right <= grid.right + 0.5;
        });
      });
      expect(inside).toBe(true);
    }
    await page.getByLabel('metric').selectOption('eer');
    await table.filter({ hasText: '13.50 ± 0.71' }).waitFor(); // N=4 on NIR: EER 0.14 and 0.13 over the two folds
    await checkView('04-ablation');
  });

  it('Parallel coordinates: one line per evaluated run, an axis per differing config key and the metric', async () => {
    await page.goto(`${base}/#/parallel`);
    await page.getByTestId('parallel-chart').waitFor();
    // synthetic-vis-nir: 6 SSMB runs and 2 baselines evaluated on it.
    await expect(page.locator('.pc-line').count()).resolves.toBe(8);
    const axes = await page.locator('.pc-axis').evaluateAll((els) => els.map((e) => e.getAttribute('data-axis')));
    expect(axes).toEqual(expect.arrayContaining(['ssmb.numExperts', 'dataset.fold', 'metric']));
    await expect(page.locator('.pc-axis[data-axis="metric"] .pc-title').textContent()).resolves.toContain('Rank-1 (%)');
    // A frozen baseline has no number of experts: n/a on that axis, not the default 4.
    const baselineLine = await page.locator(`.pc-line[data-run-id="${seeded.baselineIds[0]}"]`).getAttribute('points');
    const n4Line = await page.locator(`.pc-line[data-run-id="${seeded.runs.get('4/synthetic-vis-nir/1')}"]`).getAttribute('points');
    const axisIndex = axes.indexOf('ssmb.numExperts');
    expect(baselineLine!.split(' ')[axisIndex]).not.toBe(n4Line!.split(' ')[axisIndex]);
    await checkView('05-parallel');
  });

  it('Paper tables: by default the table config the runs match (rows = its rows), std only when n > 1; rows by N with a baseline row; CSV via a signed link', async () => {
    await page.goto(`${base}/#/tables`);
    const table = page.getByTestId('paper-table');
    await page.getByTestId('table-title').filter({ hasText: 'Seeded store' }).waitFor();
    await expect(cellTexts('[data-testid="paper-table"] tbody td:first-child')).resolves.toEqual(['Frozen baseline', 'SSMB N=1', 'SSMB N=2', 'SSMB N=4']);
    await table.locator('tr', { hasText: 'SSMB N=4' }).filter({ hasText: '81.00 ± 1.41 n=2' }).waitFor();
    await fitsPanel('paper-table');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
    const file = path.join(SHOTS, 'table.csv');
    await download.saveAs(file);
    expect(download.url()).toMatch(/[?&]exp=\d+&sig=/);
    const csv = readFileSync(file, 'utf8');
    expect(csv.split('\n')[0]).toMatch(/^table,row,row_label/);
    expect(csv).toMatch(/seeded,n4,SSMB N=4,ours,nir,VIS-NIR,synthetic-vis-nir,rank1,Rank-1,81(\.0+\d*)?,1\.41/);
    await page.getByLabel('preview format').selectOption('latex');
    await page.getByTestId('table-preview').filter({ hasText: '\\begin{tabular}' }).waitFor();
    await checkView('06-tables');
    await page.getByLabel('table').selectOption('config:seeded-wide');
    await page.locator('[data-testid="paper-table"][data-layout="per-metric"]').waitFor();
    await expect(page.locator('[data-testid="paper-table"] table').count()).resolves.toBe(6);
    await fitsPanel('paper-table');
    await checkView('06b-tables-per-metric');
    // Rows by N: the header names the key, the baseline is its own row.
    await page.getByLabel('table').selectOption('rows');
    await page.getByLabel('rows').fill('ssmb.numExperts');
    await page.getByLabel('rows').press('Enter');
    await table.locator('th', { hasText: 'ssmb.numExperts' }).first().waitFor();
    await expect(cellTexts('[data-testid="paper-table"] tbody td:first-child')).resolves.toEqual(['baseline', 'ssmb.numExperts=1', 'ssmb.numExperts=2', 'ssmb.numExperts=4']);
  });

  it('Launch: errors name the field (unknown key, a path outside the roots); a sweep queues; live events add the runs', async () => {
    await page.goto(`${base}/#/launch`);
    await page.getByTestId('launch-roots').waitFor();
    await page.getByLabel('Config overrides').fill('ssmb.nExperts=2');
    await page.getByRole('button', { name: 'Queue run' }).click();
    await expect(page.getByTestId('launch-error').innerText()).resolves.toMatch(/body\.set:.*ssmb\.nExperts/);
    await page.getByLabel('Config overrides').fill('outputDir=/etc/ssmb-evil');
    await page.getByRole('button', { name: 'Queue run' }).click();
    await page.getByTestId('launch-error').filter({ hasText: 'config key outputDir: "/etc/ssmb-evil"' }).waitFor();
    await page.getByLabel('Config overrides').fill('dataset.protocol=synthetic-vis-nir');
    await page.getByLabel(/Sweep grid/).fill('ssmb.numExperts=2,8\ndataset.fold=1,2');
    await page.getByLabel('Experiment').fill('e2e-sweep');
    page.once('dialog', (d) => void d.accept()); // "Queue 4 runs in experiment ...?"
    await page.getByRole('button', { name: 'Queue sweep' }).click();
    await expect(page.getByTestId('launch-result').innerText()).resolves.toMatch(/Queued 4 runs in sweep #\d+/);
    await checkView('07-launch');
    await page.getByTestId('launch-result').getByRole('link').first().click(); // the sweep
    await page.getByTestId('sweep-runs').locator('tbody tr').nth(3).waitFor();
    await expect(page.getByTestId('sweep-runs').locator('tbody tr').count()).resolves.toBe(4);
    await expect(page.getByTestId('sweep-runs').innerText()).resolves.toMatch(/ssmb\.numExperts=8 dataset\.fold=2/);
    await checkView('08-sweep');
    await page.goto(`${base}/#/runs?group=none`);
    const count = Number(/of (\d+)/.exec(await page.getByTestId('runs-count').filter({ hasText: /of \d+/ }).innerText())![1]);
    // A run queued by someone else shows up without a reload (live events).
    seeded.store.createRun({ experiment: 'e2e-live', kind: 'noop', config: {}, seed: 0, name: 'live run' });
    await page.getByTestId('runs-count').filter({ hasText: `of ${count + 1}` }).waitFor();
    await expect(page.locator('tbody').innerText()).resolves.toContain('live run');
  });

  it('A server with a token: encoded, double-slash, case and trailing-slash spellings are refused from the page; the token field makes changes work', async () => {
    await page.goto(`${tokenedBase}/#/runs?group=none`);
    await page.getByLabel('token').waitFor();
    const id = seeded.failedId;
    const statuses = await page.evaluate(async (runId) => {
      const out: Record<string, number> = {};
      for (const p of [`/%61pi/runs/${runId}/tags`, `//api/runs/${runId}/tags`, `/API/runs/${runId}/tags`, `/api/runs/${runId}/tags/`, `/api/runs/${runId}/tags`]) {
        // location.origin + path: a bare "//api/..." would be a URL of the host "api".
        const r = await fetch(location.origin + p, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"key":"bypass"}' });
        out[p] = r.status;
      }
      out.launch = (await fetch('/%61pi/launch', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"experiment":"x"}' })).status;
      return out;
    }, id);
    for (const [p, s] of Object.entries(statuses)) expect([401, 404], `${p} -> ${s}`).toContain(s);
    expect(seeded.store.getTags(id)).not.toHaveProperty('bypass');
    await page.getByLabel('token').fill(E2E_TOKEN);
    const row = page.locator(`tr[data-run-id="${id}"]`);
    page.once('dialog', (d) => void d.accept('with-token'));
    await row.getByRole('button', { name: '+tag' }).click();
    await row.locator('.tag', { hasText: 'with-token' }).waitFor();
    await page.evaluate(() => localStorage.removeItem('ssmb.token'));
  });

  it('NaN and +-Infinity points of a curve are left out of its line and counted under it', async () => {
    await withOwnStore('nonfinite', async (store, url) => {
      const id = store.createRun({ experiment: 'nonfinite', kind: 'noop', config: {}, seed: 1, name: 'diverged' });
      store.logMetrics(id, [1, Number.NaN, Number.POSITIVE_INFINITY, 2, Number.NEGATIVE_INFINITY, 3].map((value, step) => ({ key: 'loss', step, value })));
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${url}/#/runs/${id}`);
      await expect(page.getByTestId('points-not-drawn').first().innerText()).resolves.toBe('loss (total): 3 point(s) not drawn (NaN or ±Infinity)');
      expect(errors).toEqual([]);
    });
  });

  it('Names, tags and metric keys holding markup are shown as text on every view, never run', async () => {
    await withOwnStore('xss', async (store, xssBase) => {
      const evil = (n: number) => `<img src=x onerror="window.__xss=${n}"><script>window.__xss=${n + 1}</script>`;
      const ids = [1, 2].map((i) =>
        store.createRun({ experiment: `exp ${evil(10)}`, kind: 'noop', config: { note: evil(20) }, seed: i, name: `run${i} ${evil(30)}` }),
      );
      for (const id of ids) {
        store.setTag(id, `tag ${evil(40)}`, evil(50));
        store.logMetrics(id, [1, 2, 3].map((step) => ({ key: `loss/${evil(60)}`, step, value: step })));
      }
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      // The runs list grouped (its default; the experiment's name with its markup is in its filter) and one row per run.
      const views: Array<[string, string]> = [
        ['#/runs', '1 of 1 groups · 2 runs'], ['#/runs?group=none', 'run1 <img src=x'],
        [`#/runs/${ids[0]}`, 'run1 <img src=x'], [`#/compare?ids=${ids.join(',')}`, 'run1 <img src=x'],
      ];
      for (const [view, text] of views) {
        await page.goto(`${xssBase}/${view}`);
        await page.getByText(text, { exact: false }).first().waitFor().catch(async (err) => {
          throw new Error(`${view}: ${(err as Error).message.split('\n')[0]}\n${(await page.locator('body').innerText()).slice(0, 1500)}`);
        });
        expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), view).toBeUndefined();
        expect(await page.locator('img[src="x"], body script:not([src])').count(), view).toBe(0);
      }
      await expect(page.locator('body').innerText()).resolves.toContain('window.__xss=31');
      expect(errors).toEqual([]);
    });
  });
});

/** A test on its own store and server (the seeded store's counts are asserted above); `url` is the server's. */
async function withOwnStore(name: string, fn: (store: RunStore, url: string) => Promise<void>): Promise<void> {
  mkdirSync(path.join(root, name));
  const store = RunStore.open(path.join(root, name, 'runs.sqlite'));
  const own = await buildServer({ store, webRoot: WEB_OUT, pollMs: 200, tablesDir: null });
  try {
    await fn(store, await own.app.listen({ host: '127.0.0.1', port: 0 }));
  } finally {
    await page.goto('about:blank'); // ends the page's event stream, which would hold the server open
    await own.app.close();
    store.close();
  }
}
