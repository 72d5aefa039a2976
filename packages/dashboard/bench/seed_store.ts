// Seeds a run store with N runs of the scale grid (src/testing/seed_scale.ts), e.g. to open the dashboard
// on 20,000 runs:   npx tsx bench/seed_store.ts /tmp/scale/runs.sqlite 20000
//                   tools/bin/ssmb dashboard --store /tmp/scale/runs.sqlite   (from the repository root)
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { seedScaleStore } from '../src/testing/seed_scale.ts';

const [file, count] = process.argv.slice(2);
const n = Number(count);
if (!file || !Number.isInteger(n) || n < 1) {
  console.error(`usage: npx tsx bench/seed_store.ts STORE_FILE N (received ${JSON.stringify(process.argv.slice(2))}; N a positive integer)`);
  process.exit(2);
}
if (existsSync(file)) {
  console.error(`${file} exists: pass a new file (the grid's runs would be added a second time)`);
  process.exit(2);
}
mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
const t = performance.now();
seedScaleStore(file, n);
console.log(`${n} runs seeded into ${file} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
