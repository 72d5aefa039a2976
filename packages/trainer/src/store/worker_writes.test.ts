// The store side of the worker API: lease epochs, the idempotency ledger, lease checks, launcher
// records, and the per-key latest update of batched metrics.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RunStore, StoreError } from './run_store.ts';
import { metricsOp, SequencedOpSchema, WorkerWritesBody, type SequencedOp } from './worker_ops.ts';

let dir: string;
let store: RunStore;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'store-ww-'));
  store = RunStore.open(path.join(dir, 'runs.sqlite'));
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const run = () => store.createRun({ experiment: 'e', kind: 'noop', config: {}, seed: 1 });
const points = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ key: 'loss', step: from + i, value: 1 / (from + i), time: 1 }));

describe('worker writes', () => {
  it('a batch sent twice is stored once; a later batch with new seqs is applied', () => {
    const id = run();
    const r = store.claimRun('w', 60_000)!;
    expect(r.leaseEpoch).toBe(1);
    const lease = { owner: 'w', epoch: r.leaseEpoch };
    const batch: SequencedOp[] = [{ ...metricsOp(points(1, 100)), seq: 1 }, { seq: 2, type: 'progress', step: 100 }];
    expect(store.applyWorkerWrites(id, lease, batch)).toEqual({ applied: 2, duplicates: 0 });
    expect(store.applyWorkerWrites(id, lease, batch)).toEqual({ applied: 0, duplicates: 2 });
    // A retry that overlaps: the first op is a duplicate, the second new.
    expect(store.applyWorkerWrites(id, lease, [batch[1], { ...metricsOp(points(101, 50)), seq: 3 }])).toEqual({ applied: 1, duplicates: 1 });
    expect(store.getMetricHistory(id, 'loss')).toHaveLength(150);
    expect(store.getLatestMetrics(id).loss).toMatchObject({ step: 150, points: 150, min: 1 / 150, max: 1 });
    expect(store.getRun(id)!.step).toBe(100);
  });

  it('a worker whose lease was taken over is refused (nothing applied) and told who holds the run now', () => {
    const id = run();
    store.claimRun('old', 10)!;
    const now = Date.now();
    store.requeueExpired(now + 1000);
    const fresh = store.claimRun('new', 60_000)!;
    expect(fresh.leaseEpoch).toBe(2);
    const err = (() => {
      try {
        store.applyWorkerWrites(id, { owner: 'old', epoch: 1 }, [{ ...metricsOp(points(1, 3)), seq: 7 }]);
      } catch (e) {
        return e as StoreError;
      }
    })();
    expect(err).toBeInstanceOf(StoreError);
    expect(err!.code).toBe('STORE_LEASE_LOST');
    expect(err!.message).toMatch(/worker old no longer holds run \d+: .*now attempt 2, held by worker new/);
    expect(store.getMetricHistory(id, 'loss')).toHaveLength(0);
    expect(store.renewLease(id, { owner: 'old', epoch: 1 }, 60_000)).toMatchObject({ held: false });
    expect(store.renewLease(id, { owner: 'new', epoch: 2 }, 60_000, 5)).toEqual({ held: true, cancelRequested: false, state: 'held' });
  });

  it('a released run claimed again by the same owner gets a new epoch, so its writes never collide with the first claim', () => {
    const id = run();
    const a = store.claimRun('w', 60_000)!;
    store.applyWorkerWrites(id, { owner: 'w', epoch: a.leaseEpoch }, [{ seq: 1, type: 'release' }]);
    expect(store.getRun(id)).toMatchObject({ status: 'queued', attempts: 0 });
    const b = store.claimRun('w', 60_000)!;
    expect(b.leaseEpoch).toBe(a.leaseEpoch + 1);
    expect(store.applyWorkerWrites(id, { owner: 'w', epoch: b.leaseEpoch }, [{ ...metricsOp(points(1, 2)), seq: 1 }])).toEqual({ applied: 1, duplicates: 0 });
    // The final op, retried after its answer was lost, is acknowledged although the run is no longer running.
    const done: SequencedOp[] = [{ seq: 2, type: 'complete' }];
    store.applyWorkerWrites(id, { owner: 'w', epoch: b.leaseEpoch }, done);
    expect(store.applyWorkerWrites(id, { owner: 'w', epoch: b.leaseEpoch }, done)).toEqual({ applied: 0, duplicates: 1 });
    expect(store.getRun(id)!.status).toBe('completed');
  });

  it('claim with resumeOwn hands a worker the run it already holds; executor info is recorded', () => {
    run();
    run();
    const first = store.claimRun('w', 60_000, { executor: { launcher: 'slurm', job: '77', task: '3' }, resumeOwn: true })!;
    const again = store.claimRun('w', 60_000, { resumeOwn: true })!;
    expect(again.id).toBe(first.id);
    expect(again.leaseEpoch).toBe(first.leaseEpoch);
    expect(again).toMatchObject({ launcher: 'slurm', launcherJob: '77', launcherTask: '3' });
    expect(store.listRuns({ launcherJob: '77' }).map((r) => r.id)).toEqual([first.id]);
  });

  it('setRunLauncher marks queued runs with their job; expireLease re-queues the run of a dead worker now', () => {
    const a = run();
    const b = run();
    store.setRunLauncher([a, b], 'slurm', '123');
    expect(store.getRun(a)).toMatchObject({ launcher: 'slurm', launcherJob: '123', launcherTask: null });
    store.claimRun('dead', 600_000);
    expect(store.expireLease(a, 'someone-else').requeued).toEqual([]);
    expect(store.expireLease(a, 'dead').requeued).toEqual([a]);
    expect(store.getRun(a)).toMatchObject({ status: 'queued', leaseOwner: null });
  });

  it('batched metrics leave the latest row exactly as point-by-point logging does', () => {
    const a = run();
    const b = run();
    const pts = [
      { key: 'x', step: 3, value: 2 }, { key: 'x', step: 1, value: 5 }, { key: 'x', step: 3, value: 7 },
      { key: 'x', step: 2, value: Number.NaN }, { key: 'y', step: 1, value: Number.NaN }, { key: 'x', step: 0, value: -1 },
    ].map((p) => ({ ...p, time: 10 + p.step }));
    store.logMetrics(a, pts);
    for (const p of pts) store.logMetrics(b, [p]);
    const strip = (m: Record<string, unknown>) => JSON.stringify(m);
    expect(strip(store.getLatestMetrics(a))).toBe(strip(store.getLatestMetrics(b)));
    expect(store.getLatestMetrics(a).x).toMatchObject({ step: 3, value: 7, points: 4, min: -1, max: 7 });
  });
});

describe('worker op validation', () => {
  it('decodes NaN and Infinity from their wire strings and refuses malformed ops', () => {
    const ok = SequencedOpSchema.parse({ seq: 1, type: 'metrics', keys: ['eer'], k: [0, 0], s: [1, 2], v: ['NaN', 'Infinity'], t: [0, 0] });
    expect(ok).toMatchObject({ v: [Number.NaN, Number.POSITIVE_INFINITY] });
    expect(SequencedOpSchema.safeParse({ seq: 1, type: 'metrics', keys: ['a'], k: [1], s: [1], v: [1], t: [0] }).success).toBe(false);
    expect(SequencedOpSchema.safeParse({ seq: 1, type: 'checkpoint', step: 2, upload: '../../etc/passwd' }).success).toBe(false);
    expect(SequencedOpSchema.safeParse({ seq: 1, type: 'checkpoint', step: 2, upload: 'checkpoints/a.ckpt', path: '/x' }).success).toBe(false);
    expect(SequencedOpSchema.safeParse({ seq: 1, type: 'tag', key: 'k', value: 'v', extra: 1 }).success).toBe(false);
    const body = (ops: unknown[]) => WorkerWritesBody.safeParse({ owner: 'w', attempt: 1, ops });
    expect(body([{ seq: 1, type: 'complete' }, { seq: 2, type: 'progress', step: 1 }]).success).toBe(false);
    expect(body([{ seq: 2, type: 'progress', step: 1 }, { seq: 1, type: 'progress', step: 2 }]).success).toBe(false);
    expect(body([{ seq: 1, type: 'progress', step: 1 }, { seq: 2, type: 'complete' }]).success).toBe(true);
  });

  it('an evaluation op carries its score histograms and embedding sample (a NaN embedding value in wire form) into the store', () => {
    const id = run();
    const r = store.claimRun('w', 60_000)!;
    const scores = { lo: -1, hi: 1, genuine: [1, 2], impostor: [3, 0], outside: { genuine: 0, impostor: 1 } };
    const embeddings = { dim: 2, total: { gallery: 1, probe: 1, subjects: 1 }, points: [{ role: 'gallery', subject: 's', modality: 'VIS' }, { role: 'probe', subject: 's', modality: 'NIR' }], vectors: [1, 'NaN', 0.5, -1] };
    const op = SequencedOpSchema.parse({ seq: 1, type: 'evaluation', evaluation: { protocol: 'p', fold: '1', metrics: {}, scores, embeddings } });
    store.applyWorkerWrites(id, { owner: 'w', epoch: r.leaseEpoch }, [op]);
    expect(store.getScoreHistograms(id)).toEqual([{ protocol: 'p', fold: '1', ...scores }]);
    expect(Number.isNaN(store.getEmbeddingSample(id, 'p', '1')!.vectors[1])).toBe(true);
    const evaluation = (e: object) => SequencedOpSchema.safeParse({ seq: 1, type: 'evaluation', evaluation: { protocol: 'p', fold: '1', metrics: {}, ...e } }).success;
    expect(evaluation({ scores: { ...scores, impostor: [3] } })).toBe(false);
    expect(evaluation({ scores: { ...scores, genuine: [1.5, 2] } })).toBe(false);
    expect(evaluation({ embeddings: { ...embeddings, vectors: [1, 2, 3] } })).toBe(false);
    expect(evaluation({ embeddings: { ...embeddings, points: [{ role: 'train', subject: 's', modality: 'VIS' }, embeddings.points[1]] } })).toBe(false);
  });
});
