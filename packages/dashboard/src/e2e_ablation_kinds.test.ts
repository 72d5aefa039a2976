// End-to-end: the Ablation view grouped by two knobs at once (the expert-kind ablation:
// ssmb.expertKind x ssmb.numExperts), in headless Debian chromium at 1440x900 against a real server on
// its own small store: one line per kind in the panel, the frozen baseline as the reference line, table
// rows per (kind, N) with the change against N = 1 of the same kind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openPage } from './testing/chromium.ts';
import { RunStore, defaultConfig, mergeConfig } from '@ssmb/trainer';
import { buildServer, type DashboardServer } from './server.ts';
import { ensureWebBuild, PACKAGE_ROOT, WEB_OUT } from './build_web.ts';

const SHOTS = path.join(PACKAGE_ROOT, 'test-artifacts');
const PROTOCOL = 'synthetic-vis-universal';
const KINDS = ['style', 'affine'] as const;
const NS = [1, 2, 4] as const;
/** Rank-1 per (kind, N, fold): affine gains 10 points per doubling of N, style loses 1; fold 2 is 2 points easier. */
const rank1Of = (kind: string, n: number, fold: string) => (kind === 'affine' ? 0.5 + 0.1 * Math.log2(n) : 0.7 - 0.01 * Math.log2(n)) + (fold === '2' ? 0.02 : 0);

let root: string;
let store: RunStore;
let srv: DashboardServer;
let base: string;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  await ensureWebBuild();
  mkdirSync(SHOTS, { recursive: true });
  root = mkdtempSync(path.join(tmpdir(), 'ssmb-dash-kinds-'));
  store = RunStore.open(path.join(root, 'runs.sqlite'));
  const cfg = (o: unknown) => mergeConfig(defaultConfig(), o);
  for (const fold of ['1', '2']) {
    for (const kind of KINDS) {
      for (const n of NS) {
        const id = store.createRun({
          experiment: 'ablation-expert-kind', kind: 'train', method: 'ssmb', seed: 0, name: `${kind} N=${n} / ${fold}`,
          config: cfg({ method: 'ssmb', backbone: { model: 'iresnet-tiny' }, ssmb: { expertKind: kind, numExperts: n }, dataset: { protocol: PROTOCOL, fold } }),
        });
        store.recordEvaluation(id, { protocol: PROTOCOL, fold, metrics: { rank1: { value: rank1Of(kind, n, fold) } } });
        store.completeRun(id);
      }
    }
    const b = store.createRun({
      experiment: 'ablation-expert-kind', kind: 'evaluate', method: 'baseline', seed: 0, name: `baseline / ${fold}`,
      config: cfg({ method: 'baseline', backbone: { model: 'iresnet-tiny' }, dataset: { protocol: PROTOCOL, fold } }),
    });
    store.recordEvaluation(b, { protocol: PROTOCOL, fold, metrics: { rank1: { value: 0.4 } } });
    store.completeRun(b);
  }
  srv = await buildServer({ store, webRoot: WEB_OUT, pollMs: 200, tablesDir: null });
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

const cellTexts = (selector: string) => page.locator(selector).allInnerTexts();

describe('Ablation view, two knobs at once', () => {
  it('API: one series per expert kind, the baseline beside', async () => {
    const r = await (await fetch(`${base}/api/ablation?metric=rank1&key=ssmb.numExperts&by=ssmb.expertKind`)).json();
    expect(r.by).toBe('ssmb.expertKind');
    expect(r.points.map((p: { series: string; x: number; n: number }) => [p.series, p.x, p.n])).toEqual([
      ['affine', 1, 2], ['affine', 2, 2], ['affine', 4, 2], ['style', 1, 2], ['style', 2, 2], ['style', 4, 2],
    ]);
    expect(r.points[2].mean).toBeCloseTo(0.71, 10);
    expect(r.baselines.map((b: { mean: number; n: number }) => [b.mean, b.n])).toEqual([[0.4, 2]]);
  });

  it('the router knobs are in each run\'s resolved config: the compare view\'s config diff shows them; launch refuses unknown values naming the valid ones', async () => {
    const cfg = (o: unknown) => mergeConfig(defaultConfig(), o);
    const a = store.createRun({ experiment: 'knobs', kind: 'train', method: 'ssmb', seed: 0, config: cfg({ ssmb: { expertKind: 'affine', numExperts: 2 } }) });
    const b = store.createRun({ experiment: 'knobs', kind: 'train', method: 'ssmb', seed: 0, config: cfg({ ssmb: { expertKind: 'affine', numExperts: 2, routing: 'soft', routerInput: 'mean', routerJitter: 0.01 } }) });
    const r = await (await fetch(`${base}/api/compare?ids=${a},${b}`)).json();
    expect(r.configDiff.map((d: { key: string; values: Record<number, unknown> }) => [d.key, d.values[a], d.values[b]])).toEqual([
      ['ssmb.routerInput', 'style', 'mean'], ['ssmb.routerJitter', 0, 0.01], ['ssmb.routing', 'top1', 'soft'],
    ]);
    for (const id of [a, b]) store.cancelRun(id);
    const post = (set: string[]) => fetch(`${base}/api/launch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ experiment: 'knobs', kind: 'noop', set }) });
    const bad = await post(['ssmb.expertKind=mlp']);
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.message).toContain('expected one of "style", "style+spatial", "affine", "affine+spatial", got "mlp"');
    expect((await (await post(['ssmb.routing=top2'])).json()).error.message).toContain('expected one of "top1", "soft", got "top2"');
    expect(store.listRuns({ experiment: 'knobs' })).toHaveLength(2);
  });

  it('kind x N: one line per kind with the frozen baseline line; table rows per (kind, N), changes against N = 1 of the same kind', async () => {
    await page.goto(`${base}/#/ablation`);
    const table = page.getByTestId('ablation-table');
    // pooled over kinds until a second knob is chosen: N = 1 holds both kinds' runs
    await table.locator('tbody tr').nth(1).filter({ hasText: /61\.00 ± 11\.60\s*n=4/ }).waitFor();
    const by = page.getByLabel('lines by');
    await by.fill('ssmb.expertKind');
    await by.press('Enter');
    await table.locator('thead th').first().filter({ hasText: 'ssmb.expertKind' }).waitFor();
    await table.locator('tbody tr').nth(6).waitFor();
    await expect(cellTexts('[data-testid="ablation-table"] tbody td:first-child')).resolves.toEqual(['frozen baseline', 'affine', '', '', 'style', '', '']);
    await expect(cellTexts('[data-testid="ablation-table"] tbody tr:not(.reference-row) td:nth-child(2)')).resolves.toEqual(['1', '2', '4', '1', '2', '4']);
    const rows = await cellTexts('[data-testid="ablation-table"] tbody tr');
    expect(rows[3]).toMatch(/4\s*71\.00 ± 1\.41\s*n=2\s*\+20\.00/); // affine N=4 against affine N=1
    expect(rows[6]).toMatch(/4\s*69\.00 ± 1\.41\s*n=2\s*-2\.00/); // style N=4 against style N=1
    expect(rows[0]).toMatch(/frozen baseline\s*40\.00/);
    const panel = page.locator('[data-testid="ablation-chart"] .multiple');
    await expect(panel.count()).resolves.toBe(1);
    await panel.locator('.recharts-line').nth(1).waitFor();
    await expect(panel.locator('.recharts-line').count()).resolves.toBe(2);
    await expect(cellTexts('[data-testid="ablation-chart"] .recharts-legend-item-text')).resolves.toEqual(['affine', 'style']);
    await expect(panel.locator('.recharts-reference-line').count()).resolves.toBe(1);
    await expect(panel.locator('text.recharts-label').allTextContents()).resolves.toContain('frozen baseline 40.00');
    expect(await panel.locator('.recharts-errorBar').count()).toBeGreaterThanOrEqual(6);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: path.join(SHOTS, '04b-ablation-kind-x-n.png'), fullPage: true });
  });
});
