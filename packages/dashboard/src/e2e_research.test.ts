// End-to-end, the way HFR researchers work: runs grouped over folds and seeds, structured filters and
// columns kept in the URL, saved views, and Compare over configurations with honest numbers (best only
// when significantly best, ties marked, TAR@FAR on too few false accepts flagged). Headless Debian
// chromium against a real server on the seeded store plus two close configurations.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { checkedShot, launchChromium, openPage } from './testing/chromium.ts';
import { defaultConfig, mergeConfig } from '@ssmb/trainer';
import { buildServer, type DashboardServer } from './server.ts';
import { ensureWebBuild, PACKAGE_ROOT, WEB_OUT } from './build_web.ts';
import { seedStore, type SeededStore } from './testing/seed.ts';

const SHOTS = path.join(PACKAGE_ROOT, 'test-artifacts');
let root: string;
let seeded: SeededStore;
let srv: DashboardServer;
let base: string;
let browser: Browser;
let page: Page;
const close: number[] = [];
/** A table config over the seeded runs (rows N = 1, 2, 4), the Launch form's presets. */
const TABLE_YAML = `name: seeded
title: "Seeded"
metrics: [rank1, tar_far_1e2, eer]
datasets:
  synthetic: { root: store/synthetic }
base:
  backbone: { model: iresnet-tiny }
  optim: { lr: 0.01 }
rows:
  - { id: n4, label: "SSMB N=4", set: { method: ssmb, ssmb.numExperts: 4 } }
columns:
  - { id: nir, label: VIS-NIR, dataset: synthetic, protocol: synthetic-vis-nir }
`;

beforeAll(async () => {
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
        // Every image to expert 0: expert 1 unused, nothing separated.
        routing: ['VIS', 'NIR'].map((modality) => ({ block: 'stem', modality, expert: 0, count: 40 })),
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
  mkdirSync(path.join(root, 'tables'));
  writeFileSync(path.join(root, 'tables', 'seeded.yaml'), TABLE_YAML);
  srv = await buildServer({ store: seeded.store, webRoot: WEB_OUT, pollMs: 200, tablesDir: path.join(root, 'tables') });
  base = await srv.app.listen({ host: '127.0.0.1', port: 0 });
  browser = await launchChromium();
  page = await openPage(browser, 1440, 900, { acceptDownloads: true });
});

afterAll(async () => {
  await browser?.close();
  await srv?.app.close();
  seeded?.store.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

const shot = (name: string) => checkedShot(page, SHOTS, name);

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
    await page.locator('tr.member').nth(1).waitFor();
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
    await expect(page.locator('h2', { hasText: 'Evaluation' }).first().textContent()).resolves.toContain('mean ± std over folds (n)');
    // ROC, DET and CMC of both configurations on one chart per protocol, a line per fold in the group's colour.
    const roc = page.locator('[data-testid="compare-eval-curves"] [data-protocol="synthetic-vis-nir"]').getByTestId('compare-roc');
    await roc.locator('.recharts-line').nth(3).waitFor();
    await expect(roc.locator('.recharts-legend-item-text').allInnerTexts()).resolves.toEqual(['ssmb · N=1 / 1', 'ssmb · N=1 / 2', 'ssmb · N=4 / 1', 'ssmb · N=4 / 2']);
    await expect(page.locator('[data-testid="compare-eval-curves"]').getByTestId('compare-det').count()).resolves.toBe(1);
    await expect(page.locator('[data-testid="compare-eval-curves"]').getByTestId('compare-cmc').count()).resolves.toBe(1);
    // Export: the chart as SVG (its axes titled) and as PNG.
    const [svg] = await Promise.all([page.waitForEvent('download'), page.getByLabel('download roc-synthetic-vis-nir as SVG').click()]);
    const svgText = readFileSync(await svg.path(), 'utf8');
    expect(svgText.startsWith('<svg')).toBe(true);
    expect(svgText).toContain('FAR (log)');
    const [png] = await Promise.all([page.waitForEvent('download'), page.getByLabel('download roc-synthetic-vis-nir as PNG').click()]);
    expect(readFileSync(await png.path()).subarray(1, 4).toString()).toBe('PNG');
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

  it('Run page: what ran (not "engine wasm" alone), TAR@FAR on ~1 false accept flagged, routing separation (NMI) and unused experts flagged; a frozen baseline says it has no training curves', async () => {
    await page.goto(`${base}/#/runs/${close[0]}`);
    await page.getByTestId('engine-train').filter({ hasText: 'onnxruntime · cpu · 2 threads' }).waitFor();
    await expect(page.getByTestId('engine-eval').innerText()).resolves.toBe('onnxruntime');
    await expect(page.getByTestId('engine-backend').innerText()).resolves.toBe('wasm');
    await expect(page.getByTestId('eval-table').getByTestId('few-fa').count()).resolves.toBe(1);
    // Routing: the expert no image reaches is flagged; separation 0 when every modality goes to one expert.
    await page.getByTestId('routing-unused').filter({ hasText: '1 of 2 experts unused (expert 1)' }).waitFor();
    await expect(page.getByTestId('routing-nmi').innerText()).resolves.toBe('0.00');
    await page.goto(`${base}/#/runs/${seeded.runs.get('4/synthetic-vis-nir/1')}`);
    await page.getByTestId('routing-nmi').first().waitFor();
    const nmi = (await page.getByTestId('routing-nmi').allInnerTexts()).map(Number);
    for (const v of nmi) expect(v).toBeGreaterThan(0.2); // modality m prefers expert m mod 4
    await expect(page.getByTestId('routing-unused').count()).resolves.toBe(0);
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
    const other = await openPage(browser, 1280, 720);
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
    await page.getByLabel('table', { exact: true }).selectOption('rows');
    await page.getByTestId('paper-table').getByText('TAR@FAR=0.1%').first().waitFor();
    const tex = await (await fetch(`${base}/api/tables?rows=ssmb.numExperts&format=latex`)).text();
    // 4 protocols x 4 metrics would be one 16-column table: one table per metric instead.
    expect(tex.match(/\\begin\{tabular\}/g)).toHaveLength(4);
    expect(tex).toContain('TAR@FAR=0.1\\%');
    const wide = await (await fetch(`${base}/api/tables?rows=ssmb.numExperts&format=latex&layout=wide`)).text();
    expect(wide.match(/\\begin\{tabular\}/g)).toHaveLength(1);
  });

  it('Launch: starts from a shipped table run, previews the expanded runs before queuing, asks before queuing; clone prefills a run', async () => {
    await page.goto(`${base}/#/launch`);
    await page.getByLabel('start from').selectOption({ label: 'seeded: SSMB N=4 on VIS-NIR' });
    await expect(page.getByLabel('Config overrides').inputValue()).resolves.toMatch(/backbone\.model=iresnet-tiny[\s\S]*ssmb\.numExperts=4[\s\S]*dataset\.protocol=synthetic-vis-nir/);
    await page.getByLabel('Experiment').fill('e2e-dry');
    await page.getByLabel(/Sweep grid/).fill('optim.lr=0.01,0.02\ndataset.fold=1,2');
    const before = seeded.store.queryRuns({ archived: 'include', limit: 1 }).total;
    await page.getByTestId('launch-preview').click();
    await page.getByTestId('launch-plan').filter({ hasText: '4 runs would be queued' }).waitFor();
    await expect(page.getByTestId('launch-plan').locator('li').allInnerTexts()).resolves.toEqual(['optim.lr=0.01 dataset.fold=1', 'optim.lr=0.01 dataset.fold=2', 'optim.lr=0.02 dataset.fold=1', 'optim.lr=0.02 dataset.fold=2']);
    // Declining the confirmation queues nothing; accepting queues the 4 runs the preview listed.
    page.once('dialog', (d) => { expect(d.message()).toBe('Queue 4 runs in experiment "e2e-dry"?'); void d.dismiss(); });
    await page.getByRole('button', { name: 'Queue sweep' }).click();
    await page.waitForTimeout(300);
    expect(seeded.store.queryRuns({ archived: 'include', limit: 1 }).total).toBe(before);
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Queue sweep' }).click();
    await expect(page.getByTestId('launch-result').innerText()).resolves.toMatch(/Queued 4 runs in sweep #\d+/);
    expect(seeded.store.queryRuns({ archived: 'include', limit: 1 }).total).toBe(before + 5);
    await shot('25-launch-preview');
    // Clone: the run page's link opens the form with what the run set beyond the defaults.
    await page.goto(`${base}/#/runs/${close[3]}`);
    await page.getByTestId('clone-run').click();
    await page.getByTestId('cloned-from').filter({ hasText: `#${close[3]}` }).waitFor();
    const sets = await page.getByLabel('Config overrides').inputValue();
    expect(sets.split('\n')).toEqual(expect.arrayContaining(['method=ssmb', 'ssmb.numExperts=2', 'dataset.protocol=close-vis-nir', 'optim.lr=0.2', 'dataset.fold=1']));
    await expect(page.getByLabel('Experiment').inputValue()).resolves.toBe('close');
  });

  it('Every view fits 390 and 1280 px windows (1440: e2e.test.ts) (no sideways page scroll); assets come compressed', async () => {
    const views: Array<[string, string]> = [
      ['runs', '#/runs'], ['runs-flat', '#/runs?group=none'], ['run', `#/runs/${seeded.runs.get('4/synthetic-vis-nir/1')}`],
      ['compare', `#/compare?ids=${[...seeded.runs.values()].slice(0, 4).join(',')}`], ['ablation', '#/ablation'], ['parallel', '#/parallel'], ['tables', '#/tables'], ['launch', '#/launch'],
    ];
    for (const [w, h] of [[390, 844], [1280, 720]]) { // 1440: every view in e2e.test.ts
      await page.setViewportSize({ width: w, height: h });
      for (const [name, hash] of views) {
        await page.goto(`${base}/${hash}`);
        await page.locator('main .panel, main table').first().waitFor();
        await shot(`30-${name}-${w}`);
      }
    }
    await page.setViewportSize({ width: 1440, height: 900 });
    // The bundle: split per view, sent brotli-compressed to browsers that accept it.
    const html = await (await fetch(`${base}/`)).text();
    const entry = /assets\/index-[\w-]+\.js/.exec(html)![0];
    const res = await srv.app.inject({ url: `/${entry}`, headers: { 'accept-encoding': 'br, gzip' } });
    expect(res.headers['content-encoding']).toBe('br');
    expect(html).not.toMatch(/vendor-charts/); // the charting library loads with the views that draw
    // beforeAll built the app under vitest (NODE_ENV=test): still React's production build, whose chunks lack
    // the development build's warning texts (about twice the size, and slower).
    const chunks = readdirSync(path.join(WEB_OUT, 'assets')).filter((f) => f.endsWith('.js'));
    const dev = chunks.filter((c) => readFileSync(path.join(WEB_OUT, 'assets', c), 'utf8').includes('cannot be a child of'));
    expect(dev, 'chunks with React development code').toEqual([]);
  });
});
