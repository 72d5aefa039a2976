import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadCheckpoint } from '../checkpoint/checkpoint.ts';
import { launchRun } from '../launch.ts';
import { RunStore } from '../store/run_store.ts';
import { runWorker, silentProgress } from '../worker/worker.ts';
import { runDirFor } from '../worker/run_context.ts';
import { EVAL_ENGINE_TAG } from '../eval/evaluate_fold.ts';
import { checkpointDir } from '../checkpoint/retention.ts';
import { evaluatedSteps } from './loop.ts';
import { dyingStore, tinyConfig, tinyDataset } from './test_fixtures.ts';

let root: string;
let file: string;
beforeAll(async () => {
  root = await tinyDataset();
  file = path.join(path.dirname(root), 'runs.sqlite');
});
afterAll(() => rmSync(path.dirname(root), { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('resume after SIGKILL (cpu backend)', () => {
  it('continues from the last checkpoint to bit-identical weights, optimiser state and losses; store stays intact', async () => {
    const config = tinyConfig(root, ['engine=cpu', 'steps=8', 'checkpointEvery=2', 'batchSize=4']);
    const store = RunStore.open(file);
    const quiet = { progress: silentProgress, log: () => {}, handleSignals: false };
    const a = launchRun(store, config, { experiment: 'resume' });
    await runWorker({ store, runId: a, ...quiet });
    expect(store.getRun(a)!.status).toBe('completed');

    const b = launchRun(store, config, { experiment: 'resume' });
    const url = pathToFileURL(path.join(import.meta.dirname, '..', 'worker', 'worker.ts')).href;
    const script = `const { runWorker, silentProgress } = await import(${JSON.stringify(url)});
      await runWorker({ store: ${JSON.stringify(file)}, runId: ${b}, owner: 'doomed', leaseMs: 1500, heartbeatMs: 100, progress: silentProgress, log: () => {} });`;
    const env = { ...process.env };
    delete env.SSMB_BACKEND;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: 'ignore', env });
    const exited = new Promise((r) => child.on('exit', r));
    while ((store.latestCheckpoint(b)?.step ?? 0) < 2) await sleep(20);
    child.kill('SIGKILL');
    await exited;
    const killed = store.getRun(b)!;
    expect(killed).toMatchObject({ status: 'running', leaseOwner: 'doomed', attempts: 1 });
    const killedAt = store.latestCheckpoint(b)!.step;
    expect(killedAt).toBeLessThan(8);
    expect(store.integrityCheck()).toBe('ok');

    await sleep(1600); // the dead worker's lease expires
    const s = await runWorker({ store, runId: b, ...quiet });
    expect(s.completed).toEqual([b]);
    expect(store.getRun(b)).toMatchObject({ status: 'completed', attempts: 2, step: 8 });

    const fa = loadCheckpoint(store.latestCheckpoint(a)!.path);
    const fb = loadCheckpoint(store.latestCheckpoint(b)!.path);
    expect(fb.step).toBe(8);
    expect(fb.rngState).toBe(fa.rngState);
    expect(fb.optimizerT).toBe(fa.optimizerT);
    expect([...fb.tensors.keys()]).toEqual([...fa.tensors.keys()]);
    for (const [k, t] of fa.tensors) {
      const u = fb.tensors.get(k)!;
      expect(Buffer.from(u.data.buffer).equals(Buffer.from(t.data.buffer)), k).toBe(true);
    }
    const la = store.getMetricHistory(a, 'loss').map((p) => p.value);
    const lb = store.getMetricHistory(b, 'loss').map((p) => p.value);
    expect(lb).toEqual(la);
    expect(store.getEvalMetrics(b).map((m) => m.value)).toEqual(store.getEvalMetrics(a).map((m) => m.value));
    expect(store.integrityCheck()).toBe('ok');
    store.close();
  });
});

/** Rows of one run in the metrics history and its metrics_latest.points, read from the file (test-only SQL). */
function storedCounts(file: string, runId: number): { rows: Record<string, number>; points: Record<string, number> } {
  const db = new Database(file, { readonly: true });
  try {
    const rows = Object.fromEntries((db.prepare('SELECT key, count(*) AS n FROM metrics WHERE run_id = ? GROUP BY key').all(runId) as { key: string; n: number }[]).map((r) => [r.key, r.n]));
    const points = Object.fromEntries((db.prepare('SELECT key, points FROM metrics_latest WHERE run_id = ?').all(runId) as { key: string; points: number }[]).map((r) => [r.key, r.points]));
    return { rows, points };
  } finally {
    db.close();
  }
}

describe('restarts without losing or repeating anything (cpu backend)', () => {
  const quiet = { progress: silentProgress, log: () => {}, handleSignals: false };

  it('a run killed three times before its first checkpoint stores every step once', async () => {
    const config = tinyConfig(root, ['engine=cpu', 'steps=12', 'checkpointEvery=0', 'batchSize=4']);
    const store = RunStore.open(file);
    const id = launchRun(store, config, { experiment: 'restart', maxAttempts: 5 });
    for (const killAt of [3, 7, 5]) {
      // the heartbeat after step `killAt` finds the lease gone
      const s = await runWorker({ store: dyingStore(store, (m, a) => m === 'heartbeat' && (a[3] as number) >= killAt), runId: id, maxRuns: 1, leaseMs: 150, heartbeatMs: 1, ...quiet });
      expect(s.lost).toEqual([id]);
      expect(store.latestCheckpoint(id)).toBeUndefined();
      expect(store.getMetricHistory(id, 'loss').length).toBeGreaterThanOrEqual(killAt);
      await sleep(200); // the lease expires; the next claim re-queues the run
    }
    const s = await runWorker({ store, runId: id, ...quiet });
    expect(s.completed).toEqual([id]);
    expect(store.getRun(id)).toMatchObject({ status: 'completed', attempts: 4, step: 12 });
    expect(store.getMetricHistory(id, 'loss').map((p) => p.step)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    const { rows, points } = storedCounts(file, id);
    expect(Object.keys(rows).length).toBeGreaterThan(5);
    for (const [key, n] of Object.entries(rows)) {
      expect(n, key).toBe(12);
      expect(points[key], key).toBe(12);
    }
    store.close();
  });

  it('a kill during a mid-run evaluation: the resume runs that evaluation; temp checkpoint files are removed', async () => {
    const config = tinyConfig(root, ['engine=cpu', 'steps=12', 'checkpointEvery=4', 'evalEvery=4', 'batchSize=4', 'checkpoint.keepLast=2']);
    const store = RunStore.open(file);
    const ref = launchRun(store, config, { experiment: 'eval-kill' });
    await runWorker({ store, runId: ref, ...quiet });
    expect([...(await evaluatedSteps(store, ref))].sort((a, b) => a - b)).toEqual([4, 8]);

    const id = launchRun(store, config, { experiment: 'eval-kill' });
    let evals = 0;
    // the second evaluation (after the checkpoint of step 8) dies before its metrics are recorded
    const s = await runWorker({ store: dyingStore(store, (m, a) => m === 'setTag' && a[1] === EVAL_ENGINE_TAG && ++evals === 2), runId: id, maxRuns: 1, leaseMs: 150, ...quiet });
    expect(s.lost).toEqual([id]);
    expect(store.latestCheckpoint(id)!.step).toBe(8);
    expect([...(await evaluatedSteps(store, id))]).toEqual([4]);
    // a writer killed mid-checkpoint leaves its temp file behind
    const ckDir = checkpointDir(runDirFor(store, config, id));
    writeFileSync(`${ckDir}/.step-00000012.ckpt.tmp-99999`, 'half a checkpoint');
    await sleep(200);
    expect((await runWorker({ store, runId: id, ...quiet })).completed).toEqual([id]);
    expect([...(await evaluatedSteps(store, id))].sort((a, b) => a - b)).toEqual([4, 8]);
    for (const key of ['eval/rank1', 'eval/eer', 'eval/tar_far_1e2']) {
      expect(store.getMetricHistory(id, key).map((p) => [p.step, p.value]), key).toEqual(store.getMetricHistory(ref, key).map((p) => [p.step, p.value]));
    }
    // pruned to the newest 2 (+ the best by eval/rank1), files and rows alike, no temp file left
    const kept = store.listCheckpoints(id);
    expect(kept.length).toBeGreaterThanOrEqual(2);
    expect(kept.length).toBeLessThanOrEqual(3);
    expect(kept.at(-1)!.step).toBe(12);
    expect(readdirSync(ckDir).sort()).toEqual(kept.map((c) => c.path.split('/').at(-1)).sort());
    store.close();
  });
});
