// End-to-end in headless Debian chromium against a real server on the seed store: routing readable across
// runs and folds (separation score per block, unused experts flagged, heatmap text >= 4.5:1 as the browser
// draws it), the app shipped compressed and split by view, and every view usable at 390, 1280 and 1440 px.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { defaultConfig, mergeConfig } from '@ssmb/trainer';
import { buildServer, type DashboardServer } from './server.ts';
import { ensureWebBuild, PACKAGE_ROOT, WEB_OUT } from './build_web.ts';
import { BLOCKS, MODALITIES, seedStore, type SeededStore } from './testing/seed.ts';
import { normalizedMutualInfo } from './web/routing.ts';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.join(PACKAGE_ROOT, 'test-artifacts');

let root: string;
let seeded: SeededStore;
let srv: DashboardServer;
let base: string;
let browser: Browser;
let page: Page;
let unusedId: number;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install it with \`apt-get update && apt-get install -y chromium\` (.ci/run does)`);
  await ensureWebBuild();
  mkdirSync(SHOTS, { recursive: true });
  root = mkdtempSync(path.join(tmpdir(), 'ssmb-dash-routing-'));
  seeded = seedStore(path.join(root, 'store'));
  // N = 4, but every image goes to expert 0 or 1: experts 2 and 3 are unused.
  const s = seeded.store;
  unusedId = s.createRun({
    experiment: 'collapse', kind: 'train', method: 'ssmb', seed: 0, name: 'ssmb N=4 two experts used',
    config: mergeConfig(defaultConfig(), { method: 'ssmb', ssmb: { numExperts: 4 }, dataset: { protocol: 'synthetic-vis-nir', fold: '1' } }),
  });
  s.recordEvaluation(unusedId, {
    protocol: 'synthetic-vis-nir', fold: '1', metrics: { rank1: { value: 0.5 } },
    routing: [{ block: 'stem', modality: 'VIS', expert: 0, count: 30 }, { block: 'stem', modality: 'NIR', expert: 1, count: 30 }],
  });
  s.completeRun(unusedId);
  srv = await buildServer({ store: s, webRoot: WEB_OUT, pollMs: 200, tablesDir: null });
  base = await srv.app.listen({ host: '127.0.0.1', port: 0 });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-sync'] });
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.setDefaultTimeout(20_000);
});

afterAll(async () => {
  await browser?.close();
  await srv?.app.close();
  seeded?.store.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

/** Per heatmap cell as the browser paints it: WCAG contrast of its text colour on its background. */
const CELL_CONTRASTS = `[...document.querySelectorAll('table.heat td')].map((td) => {
  const rgb = (c) => c.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
  const lum = (c) => { const [r, g, b] = rgb(c).map((v) => { const s = v / 255; return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const s = getComputedStyle(td);
  const [a, b] = [lum(s.color), lum(s.backgroundColor)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
})`;

/** The seeded SSMB run's counts per block: modality m sends 40 images to expert m mod N, 5 to each other one. */
const seededNmi = (n: number) => normalizedMutualInfo(MODALITIES.map((_, mi) => Array.from({ length: n }, (_, e) => (e === mi % n ? 40 : 5))))!;

describe('routing you can read', () => {
  it('run page: NMI per block, unused experts flagged, heatmap text at >= 4.5:1 in every cell', async () => {
    const id = seeded.runs.get('4/synthetic-vis-nir/1')!;
    await page.goto(`${base}/#/runs/${id}`);
    const stem = page.locator('.heat-block', { has: page.locator('table.heat[data-block="stem"]') });
    await stem.locator('[data-nmi]').waitFor();
    await expect(stem.locator('[data-nmi]').innerText()).resolves.toBe(`NMI ${seededNmi(4).toFixed(2)}`);
    expect(await stem.getByTestId('unused-experts').count()).toBe(0);
    const contrasts = (await page.evaluate(CELL_CONTRASTS)) as number[];
    expect(contrasts.length).toBe(BLOCKS.length * MODALITIES.length * 4);
    expect(Math.min(...contrasts)).toBeGreaterThanOrEqual(4.5);

    await page.goto(`${base}/#/runs/${unusedId}`);
    await page.getByTestId('unused-experts').filter({ hasText: 'unused: expert 2, expert 3' }).waitFor();
    await expect(page.locator('table.heat th.unused').allInnerTexts()).resolves.toEqual(['expert 2', 'expert 3']);
    await expect(page.locator('[data-nmi]').innerText()).resolves.toBe('NMI 1.00');
    expect(Math.min(...((await page.evaluate(CELL_CONTRASTS)) as number[]))).toBeGreaterThanOrEqual(4.5);
  });

  it('routing view: a config over its folds in one click, per fold and block its NMI; the run page links there; unknown ids named', async () => {
    const id = seeded.runs.get('4/synthetic-vis-nir/1')!;
    await page.goto(`${base}/#/runs/${id}`);
    await page.getByTestId('routing-across').click();
    await page.locator('[data-testid="routing-compare"] tbody tr').first().waitFor();
    expect(page.url()).toContain(`#/routing?ids=${id}`);
    await page.getByRole('button', { name: 'experts-ablation · N=4 · synthetic-vis-nir (2)' }).click();
    const fold2 = seeded.runs.get('4/synthetic-vis-nir/2')!;
    await page.locator(`[data-testid="routing-compare"] tr[data-run-id="${fold2}"]`).waitFor();
    expect(page.url()).toContain(`#/routing?ids=${id},${fold2}`);
    const rows = page.locator('[data-testid="routing-compare"] tbody tr');
    await expect(rows.count()).resolves.toBe(2);
    await expect(rows.nth(1).locator('td').nth(2).innerText()).resolves.toBe('synthetic-vis-nir / 2');
    for (const b of BLOCKS) await expect(rows.nth(0).locator(`td[data-block="${b}"] [data-nmi]`).innerText()).resolves.toBe(`NMI ${seededNmi(4).toFixed(2)}`);
    await expect(page.locator('[data-routing-run]').count()).resolves.toBe(2);
    // N = 1 against N = 4: one expert carries no modality information
    await page.getByRole('button', { name: 'experts-ablation · N=1 · synthetic-vis-nir (2)' }).click();
    await rows.nth(3).waitFor();
    await expect(rows.nth(0).locator('[data-nmi]').first().innerText()).resolves.toBe('NMI 0.00');
    await page.screenshot({ path: path.join(SHOTS, 'routing-compare.png'), fullPage: true });
    await page.goto(`${base}/#/routing?ids=${unusedId},9999`);
    await page.getByTestId('unknown-runs').filter({ hasText: 'Runs 9999 are not in this store' }).waitFor();
    await page.locator(`[data-testid="routing-compare"] tr[data-run-id="${unusedId}"] [data-testid="unused-experts"]`).filter({ hasText: 'expert 2, expert 3' }).waitFor();
    expect(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')).toBeLessThanOrEqual(0);
  });
});

describe('shipped small and split by view', () => {
  it('scripts and styles come brotli- or gzip-compressed by Accept-Encoding, plain without it', async () => {
    const html = await (await fetch(`${base}/`)).text();
    const js = /src="\.\/(assets\/[^"]+\.js)"/.exec(html)![1];
    const plain = await fetch(`${base}/${js}`, { headers: { 'accept-encoding': 'identity' } });
    const size = (await plain.arrayBuffer()).byteLength;
    expect(plain.headers.get('content-encoding')).toBeNull();
    for (const enc of ['br', 'gzip']) {
      const r = await fetch(`${base}/${js}`, { headers: { 'accept-encoding': enc } });
      expect(r.headers.get('content-encoding'), enc).toBe(enc);
      expect(r.headers.get('content-type')).toMatch(/javascript/);
      expect(r.headers.get('vary')).toMatch(/accept-encoding/i);
      // fetch decompresses the body; content-length is what came over the wire
      const wire = Number(r.headers.get('content-length'));
      expect((await r.arrayBuffer()).byteLength).toBe(size);
      expect(wire, `${enc}: ${wire} of ${size} bytes`).toBeLessThan(size * 0.4);
    }
  });

  it('each view is its own chunk, loaded on first visit; React is its production build even when vitest built it', async () => {
    const chunks = readdirSync(path.join(WEB_OUT, 'assets')).filter((f) => f.endsWith('.js'));
    // beforeAll built the app under vitest (NODE_ENV=test); React's development build carries this warning text
    const dev = chunks.filter((c) => readFileSync(path.join(WEB_OUT, 'assets', c), 'utf8').includes('cannot be a child of'));
    expect(dev, 'chunks with React development code').toEqual([]);
    for (const v of ['Runs', 'RunDetail', 'Compare', 'Ablation', 'Parallel', 'Tables', 'Launch', 'Routing']) expect(chunks.some((c) => c.startsWith(`${v}-`)), v).toBe(true);
    const fresh = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const loaded: string[] = [];
    fresh.on('request', (r) => void (r.url().endsWith('.js') && loaded.push(r.url().split('/').at(-1)!)));
    await fresh.goto(`${base}/#/runs`);
    await fresh.getByTestId('runs-table').waitFor();
    expect(loaded.some((f) => f.startsWith('Runs-'))).toBe(true);
    expect(loaded.filter((f) => /^(RunDetail|Compare|Launch|Tables)-/.test(f))).toEqual([]);
    await fresh.close();
  });
});

describe('small screens', () => {
  const VIEWS: Array<[string, () => string, string]> = [
    ['runs', () => '#/runs', '[data-testid="runs-table"]'],
    ['run', () => `#/runs/${seeded.runs.get('4/synthetic-vis-nir/1')}`, '[data-testid="cmc-chart"] .recharts-line-curve'],
    ['compare', () => `#/compare?ids=${[...seeded.runs.values()].slice(0, 3).join(',')}`, '[data-testid="compare-runs"]'],
    ['ablation', () => '#/ablation', '[data-testid="ablation-chart"]'],
    ['parallel', () => '#/parallel', '[data-testid="parallel-chart"] svg'],
    ['tables', () => '#/tables', '[data-testid="table-title"]'],
    ['launch', () => '#/launch', '[data-testid="launch-form"]'],
    ['routing', () => `#/routing?ids=${seeded.runs.get('4/synthetic-vis-nir/1')}`, '[data-testid="routing-compare"]'],
  ];

  // 1440 px: e2e.test.ts checks every view there (checkView), and the routing view is checked above.
  it('no view is wider than the window at 390 and 1280 px; at 390 every nav link is reachable and the run page charts get the width', async () => {
    const p = await browser.newPage({ viewport: { width: 390, height: 844 } });
    for (const width of [390, 1280]) {
      await p.setViewportSize({ width, height: width === 390 ? 844 : 900 });
      for (const [name, hash, ready] of VIEWS) {
        await p.goto('about:blank'); // a new document per view: after a hash change the previous view's DOM lingers a moment
        await p.goto(`${base}/${hash()}`);
        await p.locator(ready).first().waitFor({ state: 'attached' });
        await p.waitForTimeout(100);
        const overflow = await p.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
        expect(overflow, `${name} at ${width} px is ${overflow} px too wide`).toBeLessThanOrEqual(0);
        if (width === 390) await p.screenshot({ path: path.join(SHOTS, `390-${name}.png`), fullPage: true });
      }
    }
    await p.setViewportSize({ width: 390, height: 844 });
    await p.goto(`${base}/${VIEWS[1][1]()}`);
    await p.locator('[data-chart="losses"] .recharts-line-curve').first().waitFor();
    // the navigation scrolls inside the header: the last link can be scrolled to and clicked
    const last = p.locator('header.top nav a').last();
    await last.scrollIntoViewIfNeeded();
    const box = (await last.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    const widths = await p.locator('[data-chart] .recharts-wrapper').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().width));
    expect(Math.min(...widths), `chart widths ${widths}`).toBeGreaterThanOrEqual(300);
    await last.click();
    await p.waitForURL(/#\/launch$/);
    await p.close();
  });
});
