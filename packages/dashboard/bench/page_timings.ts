// Cold page timings of the web app over the test seed store at 1440x900 in headless chromium: the runs
// list (navigation to its count shown) and a run page (to all its charts drawn: every learning curve,
// ROC, routing heatmap; each milestone's median printed), with the
// bytes the browser received. Compare builds: --web DIR serves another build of the app (e.g. an older
// commit's dist/web) on the same store and server.   npx tsx bench/page_timings.ts [--web DIR] [--repeat 3]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { chromium } from 'playwright-core';
import { buildServer } from '../src/server.ts';
import { ensureWebBuild, WEB_OUT } from '../src/build_web.ts';
import { seedStore } from '../src/testing/seed.ts';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const web = arg('--web') ? path.resolve(arg('--web')!) : (await ensureWebBuild(), WEB_OUT);
const repeat = Number(arg('--repeat') ?? 3);
const tmp = mkdtempSync(path.join(tmpdir(), 'ssmb-timings-'));
const seeded = seedStore(path.join(tmp, 'store'));
const { app } = await buildServer({ store: seeded.store, webRoot: web, tablesDir: null });
const base = await app.listen({ host: '127.0.0.1', port: 0 });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
const run = seeded.runs.get('4/synthetic-vis-nir/1')!;
const cases: Array<[string, string]> = [['runs list', '#/runs?group=none'], ['run page', `#/runs/${run}`]];
for (const [label, hash] of cases) {
  const times: number[] = [];
  const milestones: Array<Record<string, number>> = [];
  let bytes = 0;
  for (let i = 0; i < repeat; i++) {
    const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } }); // cold: no cache
    const page = await ctx.newPage();
    let received = 0;
    page.on('response', async (r) => {
      const len = Number((await r.allHeaders())['content-length'] ?? 0);
      received += len;
    });
    const t = performance.now();
    await page.goto(`${base}/${hash}`);
    if (label === 'run page') {
      // Milestones: the title (data arrived), the learning curves in the first screen drawn, every
      // learning curve drawn, ROC, routing heatmap; the page's time is the last of them (all drawn).
      const at: Record<string, number> = {};
      const mark = async (name: string, wait: () => Promise<unknown>) => (await wait(), (at[name] = performance.now() - t));
      await Promise.all([
        mark('title', () => page.getByTestId('run-title').waitFor({ timeout: 60_000 })),
        mark('in view', () => page.waitForFunction(() => {
          const charts = [...document.querySelectorAll('[data-chart]')].filter((c) => c.getBoundingClientRect().top < window.innerHeight);
          return charts.length > 0 && charts.every((c) => c.querySelector('.recharts-line path'));
        }, undefined, { timeout: 60_000 })),
        mark('curves', () => page.waitForFunction(() => {
          const charts = [...document.querySelectorAll('[data-chart]')];
          return charts.length > 0 && charts.every((c) => c.querySelector('.recharts-line path'));
        }, undefined, { timeout: 60_000 })),
        mark('roc', () => page.locator('[data-testid="roc-chart"] .recharts-line').first().waitFor({ timeout: 60_000 })),
        mark('heatmap', () => page.locator('[data-testid="routing-heatmap"] table').first().waitFor({ timeout: 60_000 })),
      ]);
      milestones.push(at);
    } else await page.locator('[data-testid="runs-count"]').filter({ hasText: / of / }).waitFor({ timeout: 60_000 });
    times.push(performance.now() - t);
    bytes = received;
    await ctx.close();
  }
  if (milestones.length) {
    const median = (k: string) => milestones.map((m) => m[k]).sort((a, b) => a - b)[Math.floor(milestones.length / 2)].toFixed(0);
    console.log(`${label.padEnd(10)} medians: title ${median('title')} ms · learning curves in the first screen ${median('in view')} ms · every learning curve ${median('curves')} ms · ROC ${median('roc')} ms · routing heatmap ${median('heatmap')} ms`);
  }
  times.sort((a, b) => a - b);
  console.log(`${label.padEnd(10)} cold load median ${times[Math.floor(times.length / 2)].toFixed(0)} ms (min ${times[0].toFixed(0)}, max ${times.at(-1)!.toFixed(0)}; ${repeat} loads) · ${(bytes / 1024).toFixed(0)} KiB with content-length`);
}
await browser.close();
await app.close();
seeded.store.close();
rmSync(tmp, { recursive: true, force: true });
