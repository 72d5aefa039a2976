// API latency benchmark: seeds a run store with 1,000 runs and 1,000,000 metric points through RunStore,
// serves it on 127.0.0.1 and times real HTTP requests. Prints p50/p95/p99 per endpoint (target p95 < 50 ms).
//   npm run bench -w @ssmb/dashboard            (env BENCH_REQUESTS=200 to change the sample size)
// Three passes: "cold" with the response cache off (every request reads SQLite; long histories are
// downsampled in SQL); "cached", the default server on an idle store (responses reused while the store's
// data version is unchanged); "live", the default server while a worker in another connection logs a
// metric point to another run before every request (the response cache always misses).
import { mkdtempSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { RunStore, TRAIN_METRICS, defaultConfig, mergeConfig, type MetricPoint } from '@ssmb/trainer';
import { buildServer } from '../src/server.ts';

const RUNS = 1000;
const POINTS = 1_000_000;
// The keys the trainer logs (four of them: the point counts of the benchmark stay as they were).
const KEYS = [TRAIN_METRICS.loss, TRAIN_METRICS.lossCc, TRAIN_METRICS.lossTs, TRAIN_METRICS.imgPerSec];
const LONG_STEPS = 25_225; // one long run: 4 x 25,225 = 100,900 points
const SHORT_STEPS = (POINTS - KEYS.length * LONG_STEPS) / (KEYS.length * (RUNS - 1)); // 225
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 100);
const PROTOCOLS = ['synthetic-vis-nir', 'synthetic-vis-thermal', 'synthetic-vis-sketch', 'synthetic-vis-universal'];
const EXPERTS = [1, 2, 4, 8];

function seed(file: string): { longRun: number; typicalRun: number } {
  const store = RunStore.open(file);
  let longRun = 0;
  for (let i = 0; i < RUNS; i++) {
    const n = EXPERTS[i % EXPERTS.length];
    const protocol = PROTOCOLS[Math.floor(i / 4) % PROTOCOLS.length];
    const fold = String((Math.floor(i / 16) % 10) + 1);
    const config = mergeConfig(defaultConfig(), { ssmb: { numExperts: n }, dataset: { protocol, fold } });
    const id = store.createRun({ experiment: `bench-${i % 5}`, kind: 'train', method: 'ssmb', config, seed: i, name: `N=${n} ${protocol}/${fold}`, totalSteps: 1000 });
    const steps = i === RUNS - 1 ? LONG_STEPS : SHORT_STEPS;
    if (i === RUNS - 1) longRun = id;
    const points: MetricPoint[] = [];
    for (let s = 0; s < steps; s++) {
      const l = 1 / (1 + s / 50) + 0.05 * Math.sin(s + i);
      points.push({ key: KEYS[0], step: s, value: l }, { key: KEYS[1], step: s, value: 0.7 * l }, { key: KEYS[2], step: s, value: 0.3 * l }, { key: KEYS[3], step: s, value: 100 + (s % 7) });
    }
    store.logMetrics(id, points);
    const r1 = Math.min(0.99, 0.5 + 0.1 * Math.log2(n) + 0.01 * (i % 7));
    store.recordEvaluation(id, {
      protocol, fold,
      metrics: { rank1: { value: r1 }, rank5: { value: r1 + 0.05 }, tar_far_1e2: { value: r1 - 0.05 }, tar_far_1e3: { value: r1 - 0.1 }, tar_far_1e4: { value: r1 - 0.2 }, eer: { value: 1 - r1 - 0.3 }, auc: { value: 0.98 } },
    });
    store.completeRun(id);
  }
  store.close();
  return { longRun, typicalRun: Math.floor(RUNS / 2) };
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main() {
  const dir = mkdtempSync(path.join(tmpdir(), 'ssmb-bench-'));
  try {
    const file = path.join(dir, 'runs.sqlite');
    let t = performance.now();
    const { longRun, typicalRun } = seed(file);
    console.log(`seeded ${RUNS} runs and ${POINTS.toLocaleString('en-US')} metric points in ${((performance.now() - t) / 1000).toFixed(1)} s (${file})`);
    const store = RunStore.open(file);
    const endpoints: Array<[string, string]> = [
      ['runs list (200 newest)', '/api/runs'],
      ['runs list sorted by Rank-1', '/api/runs?sort=rank1&order=desc&limit=200'],
      ['runs list filtered (search)', '/api/runs?search=thermal&limit=200'],
      [`run curves (4 keys x ${SHORT_STEPS} steps)`, `/api/runs/${typicalRun}/metrics`],
      [`long run curves (4 x ${LONG_STEPS.toLocaleString('en-US')} steps -> 1000 each)`, `/api/runs/${longRun}/metrics?maxPoints=1000`],
      ['ablation rank1 vs ssmb.numExperts', '/api/ablation?metric=rank1&key=ssmb.numExperts'],
      ['paper table (numExperts x protocol)', '/api/tables?rows=ssmb.numExperts&metrics=rank1,tar_far_1e2,eer'],
    ];
    const worst: Record<string, number> = {};
    const writer = RunStore.open(file); // the "worker" of the live pass
    let liveStep = 1_000_000;
    for (const mode of ['cold', 'cached', 'live'] as const) {
      const { app } = await buildServer({ store, webRoot: path.join(dir, 'no-web'), tablesDir: null, cache: mode !== 'cold' });
      const base = await app.listen({ host: '127.0.0.1', port: 0 });
      console.log(`\n[${mode}] ${REQUESTS} sequential HTTP requests per endpoint on 127.0.0.1 (after 10 warm-up requests)`);
      console.log(`${'endpoint'.padEnd(56)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'cpu ms'.padStart(8)} ${'bytes'.padStart(9)}`);
      worst[mode] = 0;
      for (const [label, url] of endpoints) {
        let bytes = 0;
        for (let i = 0; i < 10; i++) await (await fetch(base + url)).arrayBuffer();
        const times: number[] = [];
        let cpu = 0; // process CPU per request (server + HTTP client, same process): robust to a busy machine
        for (let i = 0; i < REQUESTS; i++) {
          if (mode === 'live') writer.logMetrics(typicalRun + 1, [{ key: 'loss', step: liveStep++, value: 0.5 }]);
          const c0 = process.cpuUsage();
          t = performance.now();
          const res = await fetch(base + url);
          const body = await res.arrayBuffer();
          times.push(performance.now() - t);
          const c = process.cpuUsage(c0);
          cpu += (c.user + c.system) / 1000;
          if (!res.ok) throw new Error(`${url} answered ${res.status}: ${Buffer.from(body).toString()}`);
          bytes = body.byteLength;
        }
        times.sort((a, b) => a - b);
        worst[mode] = Math.max(worst[mode], pct(times, 95));
        console.log(`${label.padEnd(56)} ${pct(times, 50).toFixed(1).padStart(8)} ${pct(times, 95).toFixed(1).padStart(8)} ${pct(times, 99).toFixed(1).padStart(8)} ${(cpu / REQUESTS).toFixed(1).padStart(8)} ${String(bytes).padStart(9)}`);
      }
      await app.close();
    }
    console.log(`\nworst p95: cold ${worst.cold.toFixed(1)} ms, cached ${worst.cached.toFixed(1)} ms, live ${worst.live.toFixed(1)} ms (target < 50 ms); load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores`);
    writer.close();
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
