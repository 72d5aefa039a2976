// Worker-API ingest benchmark (not a test): 4 worker processes, each an HttpStore (the client `ssmb worker
// --server` uses: on-disk outbox, ordered idempotent batches), log metric points to the tracking server
// over loopback as fast as they can while this process times the dashboard's heaviest read routes.
// Prints points/s ingested (target >= 50,000) and p50/p95 per read route during the writes (target
// p95 < 50 ms), with the load average (the machine is shared: compare figures of one run).
// Two passes: "max" (the workers write as fast as they can, no reads: the ingest rate and the server's CPU
// per point) and "paced" (together at BENCH_RATE points/s, default 50,000, while this process reads:
// the read routes' latency while the target rate is ingested).
//   npx tsx packages/dashboard/bench/worker_ingest.ts      (BENCH_WORKERS=4, BENCH_POINTS=250000 per worker)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { HttpStore, RunStore, TRAIN_METRICS, defaultConfig, launchRun, mergeConfig, resolveConfig, type MetricPoint } from '@ssmb/trainer';
import { buildServer } from '../src/server.ts';

const WORKERS = Number(process.env.BENCH_WORKERS ?? 4);
const POINTS = Number(process.env.BENCH_POINTS ?? 250_000);
/** Points per write op: what the training loop's MetricLogger batches (512). */
const BATCH = 512;
const KEYS = [TRAIN_METRICS.loss, TRAIN_METRICS.lossCc, TRAIN_METRICS.lossTs, TRAIN_METRICS.lossLb, TRAIN_METRICS.lr, TRAIN_METRICS.imgPerSec, TRAIN_METRICS.stepSeconds, 'routing/stem/entropy'];
const TOKEN = 'bench-token-0123456789';

const RATE = Number(process.env.BENCH_RATE ?? 50_000);

/** One worker process: claim a run, log POINTS points in batches (at `rate` points/s if > 0), complete it; print timings as JSON. */
async function worker(url: string, bufferDir: string, index: number, rate: number): Promise<void> {
  const store = new HttpStore({ url, token: TOKEN, bufferDir, log: (l) => process.stderr.write(`[worker ${index}] ${l}\n`) });
  const owner = `bench-${index}`;
  const run = await store.claimRun(owner, 600_000);
  if (!run) throw new Error('no queued run to claim');
  const t0 = Date.now();
  let step = 0;
  let sent = 0;
  while (sent < POINTS) {
    const points: MetricPoint[] = [];
    const time = Date.now();
    while (points.length < BATCH && sent + points.length < POINTS) {
      step++;
      for (const key of KEYS) if (points.length < BATCH) points.push({ key, step, value: Math.sin(step + index) + key.length, time });
    }
    sent += points.length;
    await store.logMetrics(run.id, points);
    if (rate > 0) {
      const ahead = (sent / rate) * 1000 - (Date.now() - t0);
      if (ahead > 0) await new Promise((r) => setTimeout(r, ahead));
    }
  }
  await store.completeRun(run.id); // returns once every op reached the server
  const t1 = Date.now();
  store.close();
  process.stdout.write(JSON.stringify({ runId: run.id, points: sent, start: t0, end: t1 }));
}

function seedReads(store: RunStore): { typical: number; ids: number[] } {
  const ids: number[] = [];
  store.transaction(() => {
    for (let i = 0; i < 200; i++) {
      const n = [1, 2, 4, 8][i % 4];
      const config = mergeConfig(defaultConfig(), { ssmb: { numExperts: n }, dataset: { protocol: 'synthetic-vis-nir', fold: String((i % 3) + 1) } });
      const id = store.createRun({ experiment: 'bench-reads', kind: 'train', method: 'ssmb', config, seed: i, name: `N=${n} #${i}`, totalSteps: 500 });
      const points: MetricPoint[] = [];
      for (let s = 0; s < 500; s++) for (const key of KEYS.slice(0, 4)) points.push({ key, step: s, value: 1 / (1 + s / 50) + 0.01 * i });
      store.logMetrics(id, points);
      store.recordEvaluation(id, { protocol: 'synthetic-vis-nir', fold: String((i % 3) + 1), metrics: { rank1: { value: 0.5 + 0.1 * Math.log2(n) }, tar_far_1e2: { value: 0.4 }, eer: { value: 0.1 } } });
      store.completeRun(id);
      ids.push(id);
    }
  });
  return { typical: ids[100], ids };
}


async function onePass(store: RunStore, url: string, routes: Array<[string, string]>, targets: number[], rate: number, dir: string, pass: string): Promise<void> {
    const load0 = os.loadavg()[0];
    const t0 = performance.now();
    const cpu0 = process.cpuUsage(); // this process = the server + the read loop's HTTP client
    const children = targets.map((_, i) =>
      new Promise<{ points: number; start: number; end: number }>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, 'worker', url, path.join(dir, `buffer-${pass}-${i}`), String(i), String(rate)], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`worker ${i} exited with ${code}`))));
      }),
    );
    let writing = true;
    const all = Promise.all(children).finally(() => (writing = false));
    const samples = new Map<string, Array<{ at: number; ms: number }>>(routes.map(([l]) => [l, []]));
    // Sequential requests over the heavy routes for as long as the workers run; only those made while
    // they wrote (between the first worker's start and the last one's end) are reported.
    while (writing) {
      if (routes.length === 0) await new Promise((r) => setTimeout(r, 100));
      for (const [label, u] of routes) {
        const at = Date.now();
        const t = performance.now();
        const res = await fetch(url + u);
        await res.arrayBuffer();
        samples.get(label)!.push({ at, ms: performance.now() - t });
      }
    }
    const results = await all;
    const cpu = process.cpuUsage(cpu0);
    const [from, to] = [Math.min(...results.map((r) => r.start)), Math.max(...results.map((r) => r.end))];
    const times = new Map([...samples].map(([l, v]) => [l, v.filter((x) => x.at >= from && x.at <= to).map((x) => x.ms)]));
    const wall = (performance.now() - t0) / 1000;
    const points = results.reduce((n, r) => n + r.points, 0);
    const span = (Math.max(...results.map((r) => r.end)) - Math.min(...results.map((r) => r.start))) / 1000;
    const rows = targets.reduce((n, id) => n + Object.values(store.getLatestMetrics(id)).reduce((m, l) => m + l.points, 0), 0);
    console.log(`\ningested ${points.toLocaleString('en-US')} points in ${span.toFixed(1)} s: ${Math.round(points / span).toLocaleString('en-US')} points/s (target >= 50,000); ` +
      `${rows.toLocaleString('en-US')} points stored (${rows === points ? 'all, once each' : 'MISMATCH'}); wall ${wall.toFixed(1)} s incl. process start`);
    const reads = [...times.values()].reduce((n, t) => n + t.length, 0);
    const us = (cpu.user + cpu.system) / points;
    console.log(
      reads === 0
        ? `server CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms = ${us.toFixed(1)} µs per point: one core ingests ~${Math.round(1e6 / us).toLocaleString('en-US')} points/s (a figure the machine's load does not change much)`
        : `server process CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms for the points and ${reads} read requests`,
    );
    if (reads === 0) return;
    console.log(`\nread routes while the workers wrote (sequential requests on 127.0.0.1):`);
    console.log(`${'route'.padEnd(44)} ${'n'.padStart(5)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)} ${'max ms'.padStart(8)}`);
    let worst = 0;
    for (const [label] of routes) {
      const t = times.get(label)!.sort((a, b) => a - b);
      if (t.length === 0) continue;
      worst = Math.max(worst, pct(t, 95));
      console.log(`${label.padEnd(44)} ${String(t.length).padStart(5)} ${pct(t, 50).toFixed(1).padStart(8)} ${pct(t, 95).toFixed(1).padStart(8)} ${t[t.length - 1].toFixed(1).padStart(8)}`);
    }
    console.log(`\nworst p95 ${worst.toFixed(1)} ms (target < 50 ms); load average ${load0.toFixed(2)} before, ${os.loadavg()[0].toFixed(2)} after, on ${os.cpus().length} cores`);
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ssmb-ingest-bench-'));
  try {
    const store = RunStore.open(path.join(dir, 'runs.sqlite'));
    const { typical, ids } = seedReads(store);
    const { app } = await buildServer({ store, token: TOKEN, webRoot: path.join(dir, 'no-web'), tablesDir: null, pollMs: 60_000 });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const routes: Array<[string, string]> = [
      ['runs list (200 newest, loss last/best)', '/api/runs?limit=200'],
      ['runs list sorted by Rank-1', '/api/runs?sort=rank1&order=desc&limit=200'],
      ['run curves (4 keys x 500 steps)', `/api/runs/${typical}/metrics`],
      ['compare 8 runs', `/api/compare?ids=${ids.slice(0, 8).join(',')}`],
      ['grouped curves (loss by N, 40 runs)', `/api/curves?ids=${ids.slice(0, 40).join(',')}&key=loss&by=ssmb.numExperts`],
      ['ablation rank1 vs N', '/api/ablation?metric=rank1&key=ssmb.numExperts'],
      ["a writer's live curves", ''],
    ];
    for (const [, u] of routes.filter(([, x]) => x)) {
      const r = await fetch(url + u);
      if (!r.ok) throw new Error(`${u} answered ${r.status}: ${await r.text()}`);
    }
    for (const [pass, rate] of [['max', 0], ['paced', RATE / WORKERS]] as const) {
      const targets = Array.from({ length: WORKERS }, (_, i) => launchRun(store, resolveConfig({ sets: ['steps=1'] }), { experiment: `bench-${pass}`, kind: 'noop', name: `writer ${i}` }));
      routes[routes.length - 1] = ["a writer's live curves", `/api/runs/${targets[0]}/metrics?maxPoints=1000`];
      console.log(`\n[${pass}] ${WORKERS} workers x ${POINTS.toLocaleString('en-US')} points (${KEYS.length} keys per step, ${BATCH} points per write${rate ? `, ${Math.round(rate * WORKERS).toLocaleString('en-US')} points/s together` : ', as fast as they can'}) -> ${url}; load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
      await onePass(store, url, pass === 'max' ? [] : routes, targets, rate, dir, pass);
    }
    await app.close();
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'worker') await worker(process.argv[3], process.argv[4], Number(process.argv[5]), Number(process.argv[6]));
else await main();
