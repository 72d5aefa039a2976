// Run store latency on a big store: 1,000 runs, 1,000,000 metric points (10 keys x 100 steps x 1000 runs).
// Prints insert throughput and query latencies (one run's curve, latest values, the runs list).
// npx tsx packages/trainer/bench/store_bench.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RunStore } from '../src/store/run_store.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'store-bench-'));
const store = RunStore.open(path.join(dir, 'runs.sqlite'));
const keys = ['loss', 'loss/cc', 'loss/ts', 'loss/lb', 'lr', 'perf/img_per_sec', 'routing/stem/entropy', 'routing/layer1/entropy', 'routing/layer2/entropy', 'routing/stem/share/0'];
let t = performance.now();
const ids: number[] = [];
store.transaction(() => {
  for (let i = 0; i < 1000; i++) ids.push(store.createRun({ experiment: `exp${i % 10}`, kind: 'train', method: 'ssmb', config: { ssmb: { numExperts: 1 + (i % 8) } }, seed: i }));
});
const tRuns = performance.now() - t;
t = performance.now();
for (const id of ids) {
  const log = store.metricLogger(id, 1000);
  for (let s = 1; s <= 100; s++) for (const k of keys) log.log(k, Math.sin(s + id), s);
  log.flush();
}
const tInsert = performance.now() - t;
const time = (f: () => unknown, n = 50) => {
  f();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) f();
  return (performance.now() - t0) / n;
};
const curve = time(() => store.getMetricHistory(ids[500], 'loss'));
const latest = time(() => store.getLatestMetrics(ids[500]));
const list = time(() => store.listRuns({ limit: 1000 }), 10);
console.log(`1000 runs created in ${tRuns.toFixed(0)} ms; 1,000,000 points inserted in ${(tInsert / 1000).toFixed(1)} s (${(1e6 / (tInsert / 1000)).toFixed(0)} points/s, batched)`);
console.log(`one run's curve (100 of 1,000,000 points): ${curve.toFixed(2)} ms; latest values of a run: ${latest.toFixed(2)} ms; list 1000 runs: ${list.toFixed(1)} ms`);
store.close();
rmSync(dir, { recursive: true, force: true });
