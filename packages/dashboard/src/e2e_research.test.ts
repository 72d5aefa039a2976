// End-to-end, the way HFR researchers work: runs grouped over folds and seeds, structured filters and
// columns kept in the URL, saved views, and Compare over configurations with honest numbers (best only
// when significantly best, ties marked, TAR@FAR on too few false accepts flagged). Headless Debian
// chromium against a real server on the seeded store plus two close configurations.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { defaultConfig, mergeConfig } from '@ssmb/trainer';
import { buildServer, type DashboardServer } from './server.ts';
import { ensureWebBuild, PACKAGE_ROOT, WEB_OUT } from './build_web.ts';
import { seedStore, type SeededStore } from './testing/seed.ts';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.join(PACKAGE_ROOT, 'test-artifacts');
let root: string;
let seeded: SeededStore;
let srv: DashboardServer;
let base: string;
let browser: Browser;
let page: Page;
const close: number[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install it with \`apt-get update && apt-get install -y chromium\` (.ci/run does)`);
  await ensureWebBuild();
  mkdirSync(SHOTS, { recursive: true });
  root = mkdtempSync(path.join(tmpdir(), 'ssmb-dash-research-'));
  seeded = seedStore(path.join(root, 'store'));
  // Two learning rates three folds each whose Rank-1 differ by less than the folds' spread (a tie), with
  // TAR@FAR=0.01% measured on 10,440 impostor pairs (about one false accept).
  const rank1 = { 0.1: [0.5, 0.52, 0.47], 0.2: [0.49, 0.5, 0.48] };
  for (const [lr, values] of Object.entries(rank1)) {
    values.forEach((r1, i) => {
      const fold = String(i + 1);
      const config = mergeConfig(defaultConfig(), { method: 'ssmb', ssmb: { numExperts: 2 }, dataset: { protocol: 'close-vis-nir', fold }, optim: { lr: Number(lr) } });
      const id = seeded.store.createRun({ experiment: 'close', kind: 'train', method: 'ssmb', config, seed: 0, name: `close lr=${lr}/${fold}` });
      seeded.store.recordEvaluation(id, {
        protocol: 'close-vis-nir', fold,
        metrics: { rank1: { value: r1, count: 300 }, tar_far_1e4: { value: 0.3, count: 10_440 }, genuine: { value: 300, count: 300 }, impostor: { value: 10_440, count: 10_440 } },
      });
      seeded.store.completeRun(id);
      close.push(id);
    });
  }
  // A protocol only the frozen baseline ran on (the quickstart's VIS-VIS).
  const visvis = seeded.store.createRun({ experiment: 'baselines', kind: 'evaluate', method: 'baseline', seed: 0, name: 'baseline vis-vis/1',
    config: mergeConfig(defaultConfig(), { method: 'baseline', dataset: { protocol: 'synthetic-vis-vis', fold: '1' } }) });
  seeded.store.recordEvaluation(visvis, { protocol: 'synthetic-vis-vis', fold: '1', metrics: { rank1: { value: 0.97 } } });
  seeded.store.completeRun(visvis);
  // What ran: the tf backend wasm, training and evaluation on onnxruntime (the worker's tags).
  seeded.store.setRunEnvironment(close[0], { engine: 'wasm' });
  for (const [k, v] of [['train.engine', 'onnxruntime'], ['train.provider', 'cpu'], ['train.threads', '2'], ['train.engine_fallback', 'none'], ['eval.engine', 'onnxruntime']]) seeded.store.setTag(close[0], k, v);
  srv = await buildServer({ store: seeded.store, webRoot: WEB_OUT, pollMs: 200, tablesDir: null });
  base = await srv.app.listen({ host: '127.0.0.1', port: 0 });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-sync'] });
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.setDefaultTimeout(15_000);
});

afterAll(async () => {
  await browser?.close();
  await srv?.app.close();
  seeded?.store.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

/** No sideways overflow of the page at the current width, then a screenshot. */
async function shot(name: string): Promise<void> {
  await page.waitForTimeout(250);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow, `${name}: the page is ${overflow}px wider than the window`).toBeLessThanOrEqual(0);
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

describe('research workflow in chromium', () => {
  it('Runs grouped over folds and seeds: mean ± std (n) rows that expand; Rank-1 ranks configurations; compare N=1 with N=4 over folds in 4 actions', async () => {
    await page.goto(`${base}/#/runs`);
    await page.getByTestId('runs-count').filter({ hasText: /groups · 27 runs/ }).waitFor();
    // Find the best model: one click on Rank-1 (descending), the top row is N=4 on VIS-NIR over both folds.
    await page.locator('th[data-sort="rank1"]').click();
    // (VIS-VIS, the frozen baseline on its own modality, is the ceiling above every cross-modal row.)
    await page.locator('tbody tr.group-row').first().locator('td[data-metric="rank1"]').filter({ hasText: '97.00 (1)' }).waitFor();
    const top = page.locator('tbody tr.group-row').nth(1);
    await top.locator('td[data-metric="rank1"]').filter({ hasText: '81.00 ± 1.41 (2)' }).waitFor();
    await expect(top.locator('td.name-cell').innerText()).resolves.toMatch(/^ssmb · N=4 · .*protocol=synthetic-vis-nir\s2 runs$/);
    expect(page.url()).toContain('sort=rank1');
    await top.getByRole('button', { name: /expand/ }).click();
    await expect(page.locator('tr.member').count()).resolves.toBe(2);
    await page.locator(`tr.member[data-run-id="${seeded.runs.get('4/synthetic-vis-nir/2')}"] td[data-metric="rank1"]`).filter({ hasText: '82.00' }).waitFor();
    await shot('20-runs-grouped');

    // "Compare SSMB N=1 with N=4 over folds on VIS-NIR": filter, tick two groups, Compare.
    await page.goto(`${base}/#/runs`);
    await page.getByLabel('search').fill('protocol=synthetic-vis-nir method=ssmb status=completed'); // 1
    await page.getByTestId('runs-count').filter({ hasText: '3 of 3 groups · 6 runs' }).waitFor();
    await page.getByLabel(/select group ssmb · N=1/).check(); // 2
    await page.getByLabel(/select group ssmb · N=4/).check(); // 3
    await page.getByTestId('compare-selected').click(); // 4
    const table = page.getByTestId('compare-metrics');
    await table.waitFor();
    await expect(table.locator('thead th.num').allInnerTexts()).resolves.toEqual(['ssmb · N=1\n2 runs', 'ssmb · N=4\n2 runs']);
    const rank1 = table.locator('tr[data-metric="rank1"]');
    // N=4 is 20 points better on both folds: significantly best, bold; N=1 shows its difference with the interval.
    await expect(rank1.locator('td.best').innerText()).resolves.toMatch(/^81\.00 ± 1\.41 \(2\)/);
    await expect(rank1.locator('td[data-group="ssmb · N=1"]').innerText()).resolves.toMatch(/61\.00 ± 1\.41 \(2\)\s+Δ −20\.00 \[−2\d\.\d\d, −1\d\.\d\d\] p<0\.001/);
    await expect(page.locator('h2', { hasText: 'Evaluation' }).textContent()).resolves.toContain('mean ± std over folds (n)');
    await shot('21-compare-groups');
  });

  it('Honest numbers: close configurations are tied, not bold; TAR@FAR=0.01% on ~1 false accept is flagged', async () => {
    await page.goto(`${base}/#/compare?ids=${close.join(',')}`);
    const rank1 = page.locator('[data-testid="compare-metrics"] tr[data-metric="rank1"]');
    await rank1.waitFor();
    await expect(rank1.locator('td.best').count()).resolves.toBe(0);
    await expect(rank1.locator('td.tied').allInnerTexts()).resolves.toEqual([expect.stringMatching(/^≈ 49\.67 ± 2\.52 \(3\)/), expect.stringMatching(/^≈ 49\.00 ± 1\.00 \(3\)\s+Δ −0\.67 \[.*\] p=0\.\d{3}/)]);
    const tar = page.locator('[data-testid="compare-metrics"] tr[data-metric="tar_far_1e4"]');
    await expect(tar.getByTestId('few-fa').count()).resolves.toBe(2);
    await expect(tar.getByTestId('few-fa').first().getAttribute('title')).resolves.toContain('about 1.0 false accept');
    await shot('22-compare-tied');
  });

  it('Run page: what ran (not "engine wasm" alone), TAR@FAR on ~1 false accept flagged per fold and in the mean; a frozen baseline says it has no training curves', async () => {
    await page.goto(`${base}/#/runs/${close[0]}`);
    await page.getByTestId('engine-train').filter({ hasText: 'onnxruntime · cpu · 2 threads' }).waitFor();
    await expect(page.getByTestId('engine-eval').innerText()).resolves.toBe('onnxruntime');
    await expect(page.getByTestId('engine-backend').innerText()).resolves.toBe('wasm');
    await expect(page.getByTestId('eval-table').getByTestId('few-fa').count()).resolves.toBe(1);
    await page.goto(`${base}/#/runs/${seeded.baselineIds[0]}`);
    await page.getByText('A frozen baseline trains nothing, so it has no training curves').waitFor();
    await expect(page.getByText('No metrics logged yet').count()).resolves.toBe(0);
  });

  it('Filters, columns, grouping and selection live in the URL (reload keeps them); saved views; a typo is a clear error', async () => {
    await page.goto(`${base}/#/runs?group=none`);
    await page.getByLabel('search').fill('ssmb.numExperts=4');
    await page.getByTestId('runs-count').filter({ hasText: '4 of 4' }).waitFor();
    await page.getByLabel('search').fill('ssmb.numExperts=4 rank1>75');
    await page.getByTestId('runs-count').filter({ hasText: '2 of 2' }).waitFor();
    await page.getByLabel('add column').selectOption('optim.lr');
    await page.locator('td[data-col="optim.lr"]').first().filter({ hasText: '0.01' }).waitFor();
    const id = seeded.runs.get('4/synthetic-vis-nir/1')!;
    await page.getByLabel(`select run ${id}`, { exact: true }).check();
    const url = page.url();
    expect(decodeURIComponent(url)).toContain('where=ssmb.numExperts=4 rank1>75'.replace(/ /g, '+'));
    expect(url).toContain('cols=optim.lr');
    expect(url).toContain(`sel=${id}`);
    // A fresh page on the same URL shows the same table.
    const other = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await other.goto(url);
    await other.getByTestId('runs-count').filter({ hasText: '2 of 2' }).waitFor();
    await expect(other.getByLabel(`select run ${id}`, { exact: true }).isChecked()).resolves.toBe(true);
    await expect(other.locator('th', { hasText: 'optim.lr' }).count()).resolves.toBe(1);
    await other.close();
    // Save the view, leave, reopen it from the list.
    page.once('dialog', (d) => void d.accept('best N=4'));
    await page.getByLabel('saved views').selectOption('__save__');
    await page.goto(`${base}/#/runs`);
    await page.getByTestId('runs-count').filter({ hasText: /groups/ }).waitFor();
    await page.getByLabel('saved views').selectOption('best N=4');
    await page.getByTestId('runs-count').filter({ hasText: '2 of 2' }).waitFor();
    // A key no run has: the error names it and suggests the real one; nothing is shown as "0 runs".
    await page.getByLabel('search').fill('ssmb.nExperts=4');
    await page.getByRole('alert').filter({ hasText: '"ssmb.nExperts"' }).waitFor();
    await expect(page.getByRole('alert').innerText()).resolves.toContain('ssmb.numExperts');
    await shot('23-runs-filter-error');
  });

  it('Views: Ablation keeps the baseline-only protocol, an unknown "lines by" key is an error, an unknown page says so; tables default to TAR@FAR=0.1% too and export LaTeX per metric', async () => {
    await page.goto(`${base}/#/ablation`);
    await page.locator('[data-protocol="synthetic-vis-vis"]').getByTestId('baseline-only').waitFor();
    await page.getByLabel('lines by').fill('foo.bar');
    await page.getByLabel('lines by').press('Enter');
    await page.getByRole('alert').filter({ hasText: 'by "foo.bar": no run has this config key' }).waitFor();
    await shot('24-ablation-error');
    await page.goto(`${base}/#/nope`);
    await page.getByTestId('not-found').filter({ hasText: 'No page “nope”' }).waitFor();
    await expect(page.getByTestId('not-found').getByRole('link').count()).resolves.toBeGreaterThan(4);
    await page.goto(`${base}/#/tables`);
    await page.getByTestId('paper-table').getByText('TAR@FAR=0.1%').first().waitFor();
    const tex = await (await fetch(`${base}/api/tables?rows=ssmb.numExperts&format=latex`)).text();
    // 4 protocols x 4 metrics would be one 16-column table: one table per metric instead.
    expect(tex.match(/\\begin\{tabular\}/g)).toHaveLength(4);
    expect(tex).toContain('TAR@FAR=0.1\\%');
    const wide = await (await fetch(`${base}/api/tables?rows=ssmb.numExperts&format=latex&layout=wide`)).text();
    expect(wide.match(/\\begin\{tabular\}/g)).toHaveLength(1);
  });
});
