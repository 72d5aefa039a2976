// Screenshots of every view at 1440x900 over the test seed store (or --store FILE), for looking at the
// layout as a researcher would:  npx tsx scripts/screens.ts [--store FILE] [--out DIR]
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { RunStore } from '@ssmb/trainer';
import { buildServer } from '../src/server.ts';
import { ensureWebBuild, WEB_OUT } from '../src/build_web.ts';
import { seedStore } from '../src/testing/seed.ts';
import { VIEWS, type ViewId } from '../src/web/view_list.ts';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const out = path.resolve(arg('--out') ?? 'test-artifacts/screens');
mkdirSync(out, { recursive: true });
await ensureWebBuild();
const tmp = mkdtempSync(path.join(tmpdir(), 'ssmb-screens-'));
const storeFile = arg('--store');
const store = storeFile ? RunStore.open(storeFile) : seedStore(path.join(tmp, 'store')).store;
const { app } = await buildServer({ store, webRoot: WEB_OUT, ...(arg('--tables') ? { tablesDir: arg('--tables') } : {}) });
const base = await app.listen({ host: '127.0.0.1', port: 0 });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
const runs = store.queryRuns({ limit: 5000, archived: 'include' }).runs;
const pick = (f: (r: (typeof runs)[number]) => boolean) => runs.find(f)?.id;
const trained = pick((r) => r.kind === 'train' && r.status === 'completed' && (r.numExperts ?? 0) > 1) ?? runs[0]?.id;
const compare = runs.filter((r) => r.kind === 'train' && r.status === 'completed').slice(0, 3).map((r) => r.id);
// Every page of the dashboard's list, numbered in its order; pages that show particular runs get some.
const hashOf: Partial<Record<ViewId, string[]>> = {
  run: [`#/runs/${trained}`, `#/runs/${pick((r) => r.kind === 'pretrain')}`],
  compare: [`#/compare?ids=${compare.join(',')}`],
  routing: [`#/routing?ids=${compare.join(',')}`],
};
const views: Array<[string, string]> = VIEWS.flatMap((v, i) =>
  (hashOf[v.id] ?? [`#/${v.id}`]).map((hash, j) => [`${String(i + 1).padStart(2, '0')}${j ? String.fromCharCode(97 + j) : ''}-${v.id}`, hash] as [string, string]),
);
for (const [name, hash] of views) {
  await page.goto(`${base}/${hash}`);
  await page.waitForTimeout(1500);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  await page.screenshot({ path: path.join(out, `${name}.png`), fullPage: true });
  console.log(`${name}: overflow ${overflow}px, height ${await page.evaluate(() => document.documentElement.scrollHeight)}px`);
}
await browser.close();
await app.close();
store.close();
rmSync(tmp, { recursive: true, force: true });
