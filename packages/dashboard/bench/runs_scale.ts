// Runs list at scale: seeds a store with N runs (default 2,000 and 20,000: 5 protocols x 5 folds x N
// in 1, 2, 4, 8 x learning rates, each evaluated once), serves it and measures in headless chromium at
// 1440x900 the first paint of the runs list (navigation to the count shown), grouped over folds and
// seeds and one row per run, the API time of each, and the scroll frame time (60 frames of 120 px).
//   npx tsx bench/runs_scale.ts [N ...]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { chromium } from 'playwright-core';
import { RunStore, defaultConfig, mergeConfig } from '@ssmb/trainer';
import { buildServer } from '../src/server.ts';
import { ensureWebBuild, WEB_OUT } from '../src/build_web.ts';

const SIZES = process.argv.slice(2).map(Number).filter((n) => n > 0);
const PROTOCOLS = ['synthetic-vis-nir', 'synthetic-vis-thermal', 'synthetic-vis-sketch', 'synthetic-vis-universal', 'synthetic-vis-vis'];

function seed(file: string, n: number): void {
  const store = RunStore.open(file);
  store.transaction(() => {
    for (let i = 0; i < n; i++) {
      const protocol = PROTOCOLS[i % 5];
      const fold = String(1 + (Math.floor(i / 5) % 5));
      const experts = [1, 2, 4, 8][Math.floor(i / 25) % 4];
      const lr = 0.001 * (1 + (Math.floor(i / 100) % Math.max(1, Math.floor(n / 100))));
      const config = mergeConfig(defaultConfig(), { method: 'ssmb', ssmb: { numExperts: experts }, dataset: { protocol, fold }, optim: { lr } });
      const id = store.createRun({ experiment: 'scale', kind: 'train', method: 'ssmb', config, seed: 0, name: `N=${experts} lr=${lr.toFixed(3)} ${protocol}/${fold}` });
      store.recordEvaluation(id, { protocol, fold, metrics: { rank1: { value: 0.5 + 0.1 * Math.log2(experts) + 0.01 * (i % 7) }, eer: { value: 0.2 }, tar_far_1e2: { value: 0.4 } } });
      store.completeRun(id);
    }
  });
  store.close();
}

await ensureWebBuild();
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
for (const n of SIZES.length ? SIZES : [2000, 20000]) {
  const dir = mkdtempSync(path.join(tmpdir(), 'ssmb-scale-'));
  const file = path.join(dir, 'runs.sqlite');
  let t = performance.now();
  seed(file, n);
  console.log(`${n} runs: seeded in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const store = RunStore.open(file);
  const { app } = await buildServer({ store, webRoot: WEB_OUT, cache: false, tablesDir: null });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  for (const [label, url, hash, shown] of [
    ['grouped', '/api/runs/groups?sort=rank1', '#/runs?sort=rank1', /groups/],
    ['per run', '/api/runs?sort=rank1', '#/runs?group=none&sort=rank1', /of \d/],
  ] as const) {
    t = performance.now();
    const res = await fetch(`${base}${url}`);
    await res.text();
    const api = performance.now() - t;
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    t = performance.now();
    await page.goto(`${base}/${hash}`);
    await page.getByTestId('runs-count').filter({ hasText: shown }).waitFor({ timeout: 120_000 });
    await page.locator('tbody tr').first().waitFor();
    const paint = performance.now() - t;
    const rows = await page.locator('tbody tr').count();
    const frames = await page.evaluate(async () => {
      const dts: number[] = [];
      let last = performance.now();
      for (let i = 0; i < 60; i++) {
        window.scrollBy(0, 120);
        await new Promise((r) => requestAnimationFrame(() => r(null)));
        const now = performance.now();
        dts.push(now - last);
        last = now;
      }
      return dts;
    });
    frames.sort((a, b) => a - b);
    console.log(
      `  ${label.padEnd(8)} API ${api.toFixed(0)} ms · first paint ${paint.toFixed(0)} ms (${rows} rows drawn) · scroll frame median ${frames[30].toFixed(1)} ms, p95 ${frames[56].toFixed(1)} ms`,
    );
    await page.close();
  }
  await app.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
}
await browser.close();
