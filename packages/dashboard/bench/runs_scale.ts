// Runs list at scale: seeds a store with N runs of the scale grid (default 2,000 and 20,000; see
// src/testing/seed_scale.ts), serves it and measures, in headless chromium at 1440x900:
//  - API: /api/runs and /api/runs/groups, the first request on a fresh server (cold) and the same
//    grouping's next page (what scrolling asks for), wall time and the server's CPU time;
//  - first paint of the runs list (navigation until its count and first row are shown), grouped over
//    folds and seeds and one row per run, on a sort the API timing did not ask for (no cached grouping);
//  - scroll frame time (60 frames of 120 px each), and the time to scroll to the end until the last
//    row is drawn; the number of table rows in the page after that.
//   npx tsx bench/runs_scale.ts [N ...]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { chromium } from 'playwright-core';
import { RunStore } from '@ssmb/trainer';
import { buildServer } from '../src/server.ts';
import { ensureWebBuild, WEB_OUT } from '../src/build_web.ts';
import { seedScaleStore } from '../src/testing/seed_scale.ts';

const SIZES = process.argv.slice(2).map(Number).filter((n) => n > 0);
const ms = (t: number) => `${(performance.now() - t).toFixed(0)} ms`;
/** Wall time of a request, and the CPU time this process (the server is in it) spent on it: a shared,
 *  busy machine stretches the first, hardly the second. */
const timed = async (base: string, url: string) => {
  const t = performance.now();
  const cpu = process.cpuUsage();
  const res = await fetch(`${base}${url}`);
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  await res.text();
  const used = process.cpuUsage(cpu);
  return `${ms(t)} (CPU ${((used.user + used.system) / 1000).toFixed(0)} ms)`;
};

await ensureWebBuild();
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
for (const n of SIZES.length ? SIZES : [2000, 20000]) {
  const dir = mkdtempSync(path.join(tmpdir(), 'ssmb-scale-'));
  const file = path.join(dir, 'runs.sqlite');
  let t = performance.now();
  seedScaleStore(file, n);
  console.log(`${n} runs: seeded in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const store = RunStore.open(file);
  const { app } = await buildServer({ store, webRoot: WEB_OUT, cache: false, tablesDir: null });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  console.log(`  API /api/runs/groups?sort=rank1 cold ${await timed(base, '/api/runs/groups?sort=rank1')} · next page ${await timed(base, '/api/runs/groups?sort=rank1&offset=200')}`
    + ` · filtered (where=ssmb.numExperts=4 rank1>50) ${await timed(base, `/api/runs/groups?where=${encodeURIComponent('ssmb.numExperts=4 rank1>50')}`)}`);
  console.log(`  API /api/runs?sort=rank1 ${await timed(base, '/api/runs?sort=rank1')} · offset ${n - 200} ${await timed(base, `/api/runs?sort=rank1&offset=${n - 200}`)}`
    + ` · filtered ${await timed(base, `/api/runs?where=${encodeURIComponent('ssmb.numExperts=4 rank1>50')}`)}`);
  for (const [label, hash, shown] of [
    ['grouped', '#/runs?sort=eer&order=asc', /groups/],
    ['per run', '#/runs?group=none&sort=eer&order=asc', /of \d/],
  ] as const) {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    t = performance.now();
    await page.goto(`${base}/${hash}`);
    await page.getByTestId('runs-count').filter({ hasText: shown }).waitFor({ timeout: 120_000 });
    await page.locator('tbody tr[data-run-id], tbody tr[data-group]').first().waitFor();
    const paint = ms(t);
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
      return dts.sort((a, b) => a - b);
    });
    // To the end: the last run (grouped: the last group) drawn. Only a virtual list (its spacer rows stand in
    // for the rows out of view) has one; older builds paged with a "show 200 more" button instead.
    const end = performance.now();
    const total = Number(/of (\d+)/.exec((await page.getByTestId('runs-count').textContent()) ?? '')?.[1]);
    let reached = 'n/a (no virtual list)';
    if ((await page.locator('tbody tr.spacer').count()) > 0) {
      await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
      await page.getByTestId('runs-end').filter({ hasText: String(total) }).waitFor({ timeout: 60_000 });
      reached = ms(end);
    }
    const rows = await page.locator('tbody tr').count();
    console.log(`  ${label.padEnd(8)} first paint ${paint} · scroll frame median ${frames[30].toFixed(1)} ms, p95 ${frames[56].toFixed(1)} ms · to the end ${reached} · ${rows} rows in the DOM`);
    await page.close();
  }
  await app.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
}
await browser.close();
