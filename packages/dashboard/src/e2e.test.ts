// End-to-end: serve a seeded store over real HTTP and drive every view in headless Debian chromium.
// Screenshots go to packages/dashboard/test-artifacts/ (gitignored).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildServer, type DashboardServer } from './server.ts';
import { wrapStore } from './store.ts';
import { storeLauncher } from './launch.ts';
import { ensureWebBuild, PACKAGE_ROOT, WEB_OUT } from './build_web.ts';
import { seedStore, STEPS, type SeededStore } from './testing/seed.ts';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.join(PACKAGE_ROOT, 'test-artifacts');
let root: string;
let seeded: SeededStore;
let srv: DashboardServer;
let base: string;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install it with \`apt-get update && apt-get install -y chromium\` (.ci/run does)`);
  await ensureWebBuild();
  mkdirSync(SHOTS, { recursive: true });
  root = mkdtempSync(path.join(tmpdir(), 'ssmb-dash-e2e-'));
  seeded = seedStore(path.join(root, 'store'));
  srv = await buildServer({ data: wrapStore(seeded.store), webRoot: WEB_OUT, launcher: storeLauncher(seeded.store), pollMs: 200 });
  base = await srv.app.listen({ host: '127.0.0.1', port: 0 });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1440, height: 1000 }, acceptDownloads: true });
  page.setDefaultTimeout(15_000);
});

afterAll(async () => {
  await browser?.close();
  await srv?.app.close();
  seeded?.store.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
const cellTexts = (selector: string) => page.locator(selector).allInnerTexts();

describe('dashboard in chromium', () => {
  it('Runs: lists the seeded runs with their metrics, sorts and filters', async () => {
    await page.goto(`${base}/#/runs`);
    await page.getByTestId('runs-count').filter({ hasText: '19 of 19' }).waitFor();
    const n4 = seeded.runs.get('4/synthetic-vis-nir/2')!;
    const row = page.locator(`tr[data-run-id="${n4}"]`);
    // Percent formatting comes with /api/meta, which may land after the runs: wait for it, do not read once.
    await row.locator('td[data-metric="rank1"]').filter({ hasText: /^82\.00$/ }).waitFor();
    await expect(row.innerText()).resolves.toContain('iresnet-tiny');
    await page.locator('th[data-sort="rank1"]').click(); // desc on first click
    await page.locator('tbody tr').first().locator('td[data-metric="rank1"]').filter({ hasText: '82.00' }).waitFor();
    await page.getByLabel('search').fill('thermal');
    await page.getByTestId('runs-count').filter({ hasText: '9 of 9' }).waitFor();
    await page.getByLabel('search').fill('');
    await page.getByTestId('runs-count').filter({ hasText: '19 of 19' }).waitFor();
    // Tag a run (the prompt takes key=value), then archive and restore the failed run.
    page.once('dialog', (d) => void d.accept('best=yes'));
    await row.getByRole('button', { name: '+tag' }).click();
    await row.locator('.tag', { hasText: 'best=yes' }).waitFor();
    const failed = page.locator(`tr[data-run-id="${seeded.failedId}"]`);
    await failed.getByRole('button', { name: 'archive' }).click();
    await page.getByTestId('runs-count').filter({ hasText: '18 of 18' }).waitFor();
    await page.getByLabel('archived').selectOption('only');
    await page.getByTestId('runs-count').filter({ hasText: '1 of 1' }).waitFor();
    await failed.getByRole('button', { name: 'restore' }).click();
    await page.getByTestId('runs-count').filter({ hasText: '0 of 0' }).waitFor();
    await page.getByLabel('archived').selectOption('exclude');
    await page.getByTestId('runs-count').filter({ hasText: '19 of 19' }).waitFor();
    await shot('01-runs');
  });

  it('Run detail: config, curves with point counts, eval table, ROC/DET/CMC and routing heatmap', async () => {
    const id = seeded.runs.get('4/synthetic-vis-nir/1')!;
    await page.goto(`${base}/#/runs/${id}`);
    await page.getByTestId('run-title').filter({ hasText: `#${id}` }).waitFor();
    await expect(page.getByTestId('config').innerText()).resolves.toMatch(/ssmb\.numExperts\s+4/);
    await page.getByTestId('points-plotted').filter({ hasText: `plotting ${(4 * STEPS).toLocaleString('en-US')} of ${(4 * STEPS).toLocaleString('en-US')} points` }).waitFor();
    await page.getByLabel('max points').selectOption('200');
    const plotted = await page.getByTestId('points-plotted').filter({ hasNotText: 'plotting 1,200' }).innerText();
    const n = Number(/plotting ([\d,]+) of/.exec(plotted)![1].replace(/,/g, ''));
    expect(n).toBeLessThanOrEqual(800);
    expect(n).toBeGreaterThan(100);
    expect(await page.locator('[data-testid="curve-losses"] path.recharts-curve').count()).toBeGreaterThanOrEqual(3);
    await page.getByTestId('eval-table').filter({ hasText: '80.00' }).waitFor();
    for (const chart of ['roc-chart', 'det-chart', 'cmc-chart']) {
      expect(await page.locator(`[data-testid="${chart}"] path.recharts-curve`).count(), chart).toBeGreaterThanOrEqual(1);
    }
    const stem = page.locator('table.heat[data-block="stem"]');
    await expect(stem.locator('th').allInnerTexts()).resolves.toEqual(expect.arrayContaining(['expert 0', 'expert 3', 'NIR', 'THERMAL', 'VIS']));
    await expect(stem.locator('tr', { hasText: 'NIR' }).locator('td').allInnerTexts()).resolves.toEqual(['5', '40', '5', '5']);
    await shot('02-run-detail');
  });

  it('Live: a running run\'s curves and progress update without a reload, keeping the view state', async () => {
    await page.goto(`${base}/#/runs/${seeded.runningId}`);
    await page.getByTestId('points-plotted').filter({ hasText: 'plotting 1 of 1 points' }).waitFor();
    await page.getByLabel('smoothing').fill('0.9');
    seeded.store.logMetrics(seeded.runningId, Array.from({ length: 50 }, (_, i) => ({ key: 'loss', step: i + 1, value: 1 / (i + 2) })));
    seeded.store.heartbeat(seeded.runningId, 'test-worker', 3_600_000, 51);
    await page.getByTestId('points-plotted').filter({ hasText: 'plotting 51 of 51 points' }).waitFor();
    await expect(page.getByLabel('smoothing').inputValue()).resolves.toBe('0.9');
    await page.getByTestId('run-step').filter({ hasText: /^51$/ }).waitFor();
  });

  it('Compare: pick runs in the table, see config differences, metrics and overlaid curves', async () => {
    const a = seeded.runs.get('1/synthetic-vis-nir/1')!;
    const b = seeded.runs.get('4/synthetic-vis-nir/1')!;
    await page.goto(`${base}/#/runs`);
    await page.getByLabel(`select run ${a}`, { exact: true }).check();
    await page.getByLabel(`select run ${b}`, { exact: true }).check();
    await page.getByTestId('compare-selected').click();
    await page.getByTestId('config-diff').waitFor();
    expect(page.url()).toContain(`ids=${a},${b}`);
    await expect(cellTexts('[data-testid="config-diff"] tbody td:first-child')).resolves.toEqual(['ssmb.numExperts']);
    await expect(page.getByTestId('config-diff').innerText()).resolves.toMatch(/ssmb\.numExperts\s+1\s+4/);
    await page.getByTestId('compare-metrics').filter({ hasText: /Rank-1\s*60\.00 ± 0\.00\s*80\.00 ± 0\.00/ }).waitFor();
    await page.getByTestId('compare-points').filter({ hasText: `plotting ${2 * STEPS} of ${2 * STEPS} points` }).waitFor();
    expect(await page.locator('[data-testid="compare-curves"] path.recharts-curve').count()).toBeGreaterThanOrEqual(2);
    await shot('03-compare');
  });

  it('Ablation: metric vs number of experts with error bars and the table beside it', async () => {
    await page.goto(`${base}/#/ablation`);
    const table = page.getByTestId('ablation-table');
    await table.locator('tbody tr').nth(2).waitFor();
    await expect(cellTexts('[data-testid="ablation-table"] tbody td:first-child')).resolves.toEqual(['1', '2', '4']);
    await table.locator('tbody tr').nth(2).filter({ hasText: /4\s*81\.00 ± 1\.41\s*n=2\s*71\.00 ± 1\.41\s*n=2/ }).waitFor();
    expect(await page.locator('[data-testid="ablation-chart"] path.recharts-curve').count()).toBe(2);
    expect(await page.locator('[data-testid="ablation-chart"] .recharts-errorBar').count()).toBeGreaterThanOrEqual(6);
    await page.getByLabel('metric').selectOption('eer');
    await table.filter({ hasText: '13.50 ± 0.71' }).waitFor(); // N=4 on NIR: EER 0.14 and 0.13 over the two folds
    await shot('04-ablation');
  });

  it('Paper tables: rows x protocols with mean ± std, and a CSV export', async () => {
    await page.goto(`${base}/#/tables`);
    await page.getByLabel('rows').fill('ssmb.numExperts');
    await page.getByLabel('method').selectOption('ssmb');
    const table = page.getByTestId('paper-table');
    await table.filter({ hasText: 'ssmb.numExperts=4' }).waitFor();
    await table.locator('tr', { hasText: 'ssmb.numExperts=4' }).filter({ hasText: '81.00 ± 1.41' }).waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
    const file = path.join(SHOTS, 'table.csv');
    await download.saveAs(file);
    const csv = readFileSync(file, 'utf8');
    expect(csv.split('\n')[0]).toMatch(/^table,row,row_label/);
    expect(csv).toMatch(/ssmb\.numExperts=4,ours,c0,synthetic-vis-nir,synthetic-vis-nir,rank1,Rank-1,81(\.0+\d*)?,1\.41/);
    await page.getByLabel('preview format').selectOption('latex');
    await page.getByTestId('table-preview').filter({ hasText: '\\begin{tabular}' }).waitFor();
    await shot('05-tables');
  });

  it('Launch: queues a sweep, shows the error for an unknown key; live events add the runs to the table', async () => {
    await page.goto(`${base}/#/launch`);
    await page.getByLabel('Config overrides').fill('ssmb.nExperts=2');
    await page.getByRole('button', { name: 'Queue run' }).click();
    await expect(page.getByTestId('launch-error').innerText()).resolves.toMatch(/body\.set:.*ssmb\.nExperts/);
    await page.getByLabel('Config overrides').fill('dataset.protocol=synthetic-vis-nir');
    await page.getByLabel(/Sweep grid/).fill('ssmb.numExperts=2,8\ndataset.fold=1,2');
    await page.getByLabel('Experiment').fill('e2e-sweep');
    await page.getByRole('button', { name: 'Queue sweep' }).click();
    await expect(page.getByTestId('launch-result').innerText()).resolves.toMatch(/Queued 4 runs in sweep #\d+/);
    await shot('06-launch');
    await page.getByTestId('launch-result').getByRole('link').first().click(); // the sweep
    await page.getByTestId('sweep-runs').locator('tbody tr').nth(3).waitFor();
    await expect(page.getByTestId('sweep-runs').locator('tbody tr').count()).resolves.toBe(4);
    await expect(page.getByTestId('sweep-runs').innerText()).resolves.toMatch(/ssmb\.numExperts=8 dataset\.fold=2/);
    await page.goto(`${base}/#/runs`);
    await page.getByTestId('runs-count').filter({ hasText: '24 of 24' }).waitFor();
    // A run queued by someone else shows up without a reload (server-sent events).
    seeded.store.createRun({ experiment: 'e2e-live', kind: 'noop', config: {}, seed: 0, name: 'live run' });
    await page.getByTestId('runs-count').filter({ hasText: '25 of 25' }).waitFor();
    await expect(page.locator('tbody').innerText()).resolves.toContain('live run');
  });
});
