// One large worker write (not a test): a single metrics op of BENCH_POINTS points (default 1,000,000,
// ~36 MiB of JSON) sent to the tracking server while this process reads GET /api/meta in a loop. Prints
// how long the write took and the reads' p50 / max latency meanwhile (the server applies the op in
// slices, so reads are answered between them; parsing and validating the body is still one piece).
// Then another connection holds the store's write lock for BENCH_LOCK_MS (default 3,000): prints how long
// a worker write took to be answered (503 after the server's short busy wait) and the reads' latency.
//   npx tsx packages/dashboard/bench/large_op.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { RunStore, launchRun, resolveConfig } from '@ssmb/trainer';
import { buildServer } from '../src/server.ts';

const N = Number(process.env.BENCH_POINTS ?? 1_000_000);
const dir = mkdtempSync(path.join(tmpdir(), 'ssmb-bench-large-op-'));
const store = RunStore.open(path.join(dir, 'runs.sqlite'));
const { app } = await buildServer({ store, webRoot: path.join(dir, 'no-web'), tablesDir: null, reapMs: 0 });
const url = await app.listen({ host: '127.0.0.1', port: 0 });
const post = async (p: string, body: unknown, auth?: string) =>
  (await fetch(`${url}${p}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}) }, body: JSON.stringify(body) })).json() as Promise<Record<string, any>>;
try {
  const id = launchRun(store, resolveConfig({ sets: ['steps=10'] }), { experiment: 'bench', kind: 'noop' });
  const me = await post('/api/worker/register', { name: 'bench' });
  const { run } = await post('/api/worker/claim', { leaseMs: 600_000, runId: id }, me.credential);
  const op = { seq: 1, type: 'metrics', keys: ['loss'], k: new Array(N).fill(0), s: Array.from({ length: N }, (_, i) => i), v: Array.from({ length: N }, (_, i) => 1 / (i + 1)), t: new Array(N).fill(Date.now()) };
  const body = JSON.stringify({ owner: me.owner, attempt: run.leaseEpoch, ops: [op] });
  const rss0 = process.memoryUsage().rss;
  let done = false;
  const t0 = performance.now();
  const write = post(`/api/worker/runs/${id}/writes`, JSON.parse(body), me.credential).then((r) => ((done = true), r));
  const lat: number[] = [];
  while (!done) {
    const t = performance.now();
    await fetch(`${url}/api/meta`);
    lat.push(performance.now() - t);
  }
  const res = await write;
  const ms = performance.now() - t0;
  lat.sort((a, b) => a - b);
  console.log(`one op of ${N.toLocaleString('en-US')} points (${(body.length / 2 ** 20).toFixed(1)} MiB): ${JSON.stringify(res)} in ${(ms / 1000).toFixed(2)} s`);
  console.log(`GET /api/meta meanwhile: ${lat.length} reads, p50 ${lat[lat.length >> 1].toFixed(0)} ms, max ${lat[lat.length - 1].toFixed(0)} ms; rss +${((process.memoryUsage().rss - rss0) / 2 ** 20).toFixed(0)} MiB`);
  const LOCK_MS = Number(process.env.BENCH_LOCK_MS ?? 3000);
  const other = new Database(store.file);
  other.exec('BEGIN IMMEDIATE');
  const release = setTimeout(() => (other.exec('ROLLBACK'), other.close()), LOCK_MS);
  const tw = performance.now();
  const locked = await fetch(`${url}/api/worker/runs/${id}/writes`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${me.credential}` },
    body: JSON.stringify({ owner: me.owner, attempt: run.leaseEpoch, ops: [{ seq: 2, type: 'progress', step: 1 }] }),
  });
  const writeMs = performance.now() - tw;
  const reads: number[] = [];
  const tEnd = tw + LOCK_MS - 200;
  while (performance.now() < tEnd) {
    const t = performance.now();
    await fetch(`${url}/api/runs/${id}`);
    reads.push(performance.now() - t);
  }
  await new Promise((r) => setTimeout(r, Math.max(0, tw + LOCK_MS + 50 - performance.now())));
  clearTimeout(release);
  if (other.open) (other.exec('ROLLBACK'), other.close());
  reads.sort((a, b) => a - b);
  console.log(`another connection holds the write lock ${LOCK_MS} ms: a worker write answered ${locked.status} after ${writeMs.toFixed(0)} ms; GET /api/runs/:id meanwhile: ${reads.length} reads${reads.length ? `, p50 ${reads[reads.length >> 1].toFixed(0)} ms, max ${reads[reads.length - 1].toFixed(0)} ms` : ' (the write held the server until the lock went)'}`);
} finally {
  await app.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
}
