// Run page in Chromium, cold: a fresh browser context (empty cache) per load, timed from navigation start
// until the charts of the first screen are drawn and until every chart of the page is drawn (learning curves, ROC/DET/CMC, routing heatmap). Also prints
// the JavaScript and CSS the page downloads (bytes on the wire and decoded) and the largest overflow of
// the run page, runs list and routing view at 390, 1280 and 1440 px.
//   npx tsx bench/web_timing.ts [--web DIR] [--loads 7]
// The store: the test seed store plus one quickstart-sized SSMB run (5 routed blocks, N = 4, 2,000 steps,
// 4 protocols x 3 folds with 10,000-point ROC curves), which draws 24 charts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { TRAIN_METRICS, defaultConfig, mergeConfig, routingEntropyKey, routingShareKey, type MetricPoint } from '@ssmb/trainer';
import { buildServer } from '../src/server.ts';
import { ensureWebBuild, WEB_OUT } from '../src/build_web.ts';
import { seedStore } from '../src/testing/seed.ts';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const LOADS = Number(arg('--loads') ?? 7);
const webRoot = arg('--web') ? path.resolve(arg('--web')!) : (await ensureWebBuild(), WEB_OUT);

const tmp = mkdtempSync(path.join(tmpdir(), 'ssmb-web-timing-'));
const { store } = seedStore(path.join(tmp, 'store'));
const BLOCKS = ['stem', 'layer1', 'layer2', 'layer3', 'layer4'];
const PROTOCOLS = ['synthetic-vis-nir', 'synthetic-vis-thermal', 'synthetic-vis-sketch', 'synthetic-vis-universal'];
const N = 4;
const STEPS = 2000;
const id = store.createRun({
  experiment: 'quickstart', kind: 'train', method: 'ssmb', seed: 0, name: 'ssmb N=4 quickstart-sized', totalSteps: STEPS,
  config: mergeConfig(defaultConfig(), { method: 'ssmb', ssmb: { numExperts: N }, dataset: { protocol: PROTOCOLS[3], fold: '1' }, steps: STEPS }),
});
const points: MetricPoint[] = [];
for (let s = 1; s <= STEPS; s++) {
  const l = 1 / (1 + s / 100) + 0.05 * Math.sin(s);
  points.push({ key: TRAIN_METRICS.loss, step: s, value: l }, { key: TRAIN_METRICS.lossCc, step: s, value: 0.7 * l }, { key: TRAIN_METRICS.lossTs, step: s, value: 0.3 * l },
    { key: TRAIN_METRICS.lossLb, step: s, value: 0.04 }, { key: TRAIN_METRICS.lr, step: s, value: 0.1 * (1 - s / STEPS) },
    { key: TRAIN_METRICS.imgPerSec, step: s, value: 100 + (s % 7) }, { key: TRAIN_METRICS.stepSeconds, step: s, value: 0.16 });
  for (const b of BLOCKS) {
    points.push({ key: routingEntropyKey(b), step: s, value: Math.log(N) * (1 - s / (2 * STEPS)) });
    for (let e = 0; e < N; e++) points.push({ key: routingShareKey(b, e), step: s, value: (e + 1) / 10 });
  }
}
store.logMetrics(id, points);
store.setProgress(id, STEPS);
const far = Array.from({ length: 10_000 }, (_, i) => (i + 1) / 10_000);
for (const protocol of PROTOCOLS) {
  for (const fold of ['1', '2', '3']) {
    store.recordEvaluation(id, {
      protocol, fold,
      metrics: { rank1: { value: 0.5, count: 360 }, eer: { value: 0.2 }, tar_far_1e2: { value: 0.4, count: 10_440 } },
      curves: { roc: { x: far, y: far.map((f) => Math.min(1, 0.4 + 0.1 * Math.log10(f * 1e4))) }, cmc: { x: [1, 2, 3, 4, 5], y: [0.5, 0.6, 0.65, 0.7, 0.72] } },
      routing: BLOCKS.flatMap((block) => ['VIS', 'NIR', 'THERMAL', 'SKETCH'].flatMap((modality, mi) => [0, 1].map((e) => ({ block, modality, expert: e, count: e === mi % 2 ? 90 : 10 })))),
    });
  }
}
store.completeRun(id);

const { app } = await buildServer({ store, webRoot, tablesDir: null });
const base = await app.listen({ host: '127.0.0.1', port: 0 });
if (process.argv.includes('--serve')) {
  console.log(`serving the bench store at ${base} (run #${id}); Ctrl-C stops`);
  await new Promise(() => {});
}
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });

// Page-side code as strings: tsx would wrap named functions in a helper the page does not have.
/** Drawn: every learning-curve chart has a line, ROC/DET/CMC have lines, the heatmap has cells. */
const DRAWN = `(() => {
  const charts = [...document.querySelectorAll('[data-chart]')];
  return charts.length > 0 && charts.every((c) => c.querySelector('.recharts-line-curve'))
    && ['roc-chart', 'det-chart', 'cmc-chart'].every((t) => document.querySelector('[data-testid="' + t + '"] .recharts-line-curve'))
    && !!document.querySelector('[data-testid="routing-heatmap"] td');
})()`;
/** First screen drawn: every learning-curve chart that starts inside the window has a line. */
const FIRST = `(() => {
  const charts = [...document.querySelectorAll('[data-chart]')].filter((c) => c.getBoundingClientRect().top < innerHeight);
  return charts.length > 0 && charts.every((c) => c.querySelector('.recharts-line-curve'));
})()`;
const ASSETS = `(() => {
  const res = performance.getEntriesByType('resource');
  const of = (re) => res.filter((r) => re.test(new URL(r.name).pathname));
  const sum = (rs, k) => rs.reduce((a, r) => a + r[k], 0);
  return {
    js: sum(of(/\\.js$/), 'decodedBodySize'), jsWire: sum(of(/\\.js$/), 'encodedBodySize'), css: sum(of(/\\.css$/), 'decodedBodySize'), cssWire: sum(of(/\\.css$/), 'encodedBodySize'),
    requests: of(/\\.(js|css)$/).length, charts: document.querySelectorAll('.recharts-wrapper').length,
  };
})()`;

const times: number[] = [];
const firsts: number[] = [];
let assets = { js: 0, jsWire: 0, css: 0, cssWire: 0, requests: 0, charts: 0 };
for (let i = 0; i < LOADS; i++) {
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await ctx.newPage();
  await page.goto(`${base}/#/runs/${id}`);
  await page.waitForFunction(FIRST, undefined, { timeout: 30_000, polling: 'raf' });
  firsts.push((await page.evaluate('performance.now()')) as number);
  await page.waitForFunction(DRAWN, undefined, { timeout: 30_000, polling: 'raf' });
  times.push((await page.evaluate('performance.now()')) as number);
  assets = (await page.evaluate(ASSETS)) as typeof assets;
  await ctx.close();
}
times.sort((a, b) => a - b);
firsts.sort((a, b) => a - b);
const kb = (b: number) => `${(b / 1024).toFixed(0)} KiB`;
console.log(`run page #${id}, cold, ${LOADS} loads: median ${times[Math.floor(LOADS / 2)].toFixed(0)} ms, min ${times[0].toFixed(0)} ms, max ${times[LOADS - 1].toFixed(0)} ms (navigation start to ${assets.charts} charts drawn)`);
console.log(`run page #${id}, cold, ${LOADS} loads: first screen drawn: median ${firsts[Math.floor(LOADS / 2)].toFixed(0)} ms, min ${firsts[0].toFixed(0)} ms, max ${firsts[LOADS - 1].toFixed(0)} ms`);
console.log(`assets: ${assets.requests} js/css files; js ${kb(assets.js)} decoded, ${kb(assets.jsWire)} on the wire; css ${kb(assets.css)} decoded, ${kb(assets.cssWire)} on the wire`);

for (const width of [390, 1280, 1440]) {
  const ctx = await browser.newContext({ viewport: { width, height: width === 390 ? 844 : 900 } });
  const page = await ctx.newPage();
  const out: string[] = [];
  for (const [name, hash, sel] of [['run page', `#/runs/${id}`, '[data-testid="routing-heatmap"]'], ['runs', '#/runs', '[data-testid="runs-table"]'], ['routing', `#/routing?ids=${id}`, '[data-testid="routing-compare"]']] as const) {
    await page.goto(`${base}/${hash}`);
    const shown = await page.locator(sel).first().waitFor({ timeout: 10_000 }).then(() => true, () => false);
    if (!shown) {
      out.push(`${name} (not in this build)`);
      continue;
    }
    await page.waitForTimeout(300);
    out.push(`${name} ${await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')} px`);
  }
  console.log(`overflow at ${width} px: ${out.join(', ')}`);
  await ctx.close();
}
await browser.close();
await app.close();
store.close();
rmSync(tmp, { recursive: true, force: true });
