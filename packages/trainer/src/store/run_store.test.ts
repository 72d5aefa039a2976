import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RunStore, StoreError } from './run_store.ts';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.ts';
import { RUN_KINDS, RUN_STATUSES } from './types.ts';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'store-'));
  file = path.join(dir, 'runs.sqlite');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The schema as text, read through a connection of its own (the store's connection is private). */
function schemaSql(f: string): string {
  const db = new Database(f, { readonly: true });
  try {
    const rows = db.prepare(`SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY type, name`).all() as {
      sql: string;
    }[];
    return rows.map((r) => r.sql.replace(/\s+/g, ' ').trim() + ';').join('\n') + '\n';
  } finally {
    db.close();
  }
}

/** A read-only look at the raw tables, for assertions the store API does not expose. */
function raw<T>(f: string, fn: (db: Database.Database) => T): T {
  const db = new Database(f, { readonly: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

const SNAPSHOT = path.join(import.meta.dirname, '__snapshots__', 'schema.sql');

/** A store file exactly as schema version 1 wrote it (migration 1 only), with some data. */
function writeV1Store(f: string, runDir: string): void {
  const db = new Database(f);
  db.exec(`CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1);`);
  db.exec(MIGRATIONS[0].sql);
  db.exec(`INSERT INTO experiments (name, created_at) VALUES ('e', 0);
    INSERT INTO runs (experiment_id, kind, status, config_json, seed, created_at) VALUES (1, 'noop', 'completed', '{}', 0, 0);
    INSERT INTO metrics (run_id, key, step, value, time) VALUES (1, 'loss', 0, 0.5, 0), (1, 'loss', 1, 0.25, 0), (1, 'loss', 2, NULL, 0);
    INSERT INTO metrics_latest (run_id, key, step, value, time) VALUES (1, 'loss', 2, NULL, 0);`);
  db.prepare('INSERT INTO checkpoints (run_id, step, path, created_at) VALUES (1, 2, ?, 0)').run(path.join(runDir, 'checkpoints', 'step-2.ckpt'));
  db.prepare(`INSERT INTO artifacts (run_id, kind, path, created_at) VALUES (1, 'scores', ?, 0), (1, 'weights', '/elsewhere/w.safetensors', 0)`).run(path.join(runDir, 'scores.txt'));
  db.close();
}

describe('RunStore schema', () => {
  it('pins the schema produced by the migrations', async () => {
    const store = RunStore.open(file);
    expect(store.schemaVersion()).toBe(SCHEMA_VERSION);
    store.close();
    await expect(schemaSql(file)).toMatchFileSnapshot('./__snapshots__/schema.sql');
    raw(file, (db) => {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    });
  });

  it('a version-1 store migrated to the current version has exactly the pinned schema, and keeps its data', () => {
    const runDir = path.join(dir, 'artifacts', 'run-1');
    writeV1Store(file, runDir);
    expect(() => RunStore.open(file)).toThrow(new RegExp(`schema version 1, this code expects version ${SCHEMA_VERSION}`));
    expect(RunStore.migrate(file)).toEqual({ from: 1, to: SCHEMA_VERSION });
    expect(schemaSql(file)).toBe(readFileSync(SNAPSHOT, 'utf8'));
    const store = RunStore.open(file);
    expect(store.getMetricHistory(1, 'loss').map((p) => p.value)).toEqual([0.5, 0.25, Number.NaN]);
    // v3 backfilled the point count, v4 the extremes (NaN ignored by both).
    expect(store.getLatestMetrics(1).loss).toMatchObject({ step: 2, points: 2, min: 0.25, max: 0.5 });
    expect(Number.isNaN(store.getLatestMetrics(1).loss.value)).toBe(true);
    // v4: paths inside the store's folder became relative, others stayed as they were.
    expect(raw(file, (db) => db.prepare('SELECT path FROM checkpoints UNION ALL SELECT path FROM artifacts').pluck().all())).toEqual([
      path.join('artifacts', 'run-1', 'checkpoints', 'step-2.ckpt'), path.join('artifacts', 'run-1', 'scores.txt'), '/elsewhere/w.safetensors',
    ]);
    expect(store.latestCheckpoint(1)!.path).toBe(path.join(runDir, 'checkpoints', 'step-2.ckpt'));
    expect(raw(file, (db) => db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'metrics'`).pluck().all())).toEqual(['metrics_run_key_step_value']);
    store.close();
  });

  it('v7: a migrated store keeps its runs and their rows, and stores any registered method name', () => {
    writeV1Store(file, path.join(dir, 'artifacts', 'run-1'));
    const before = new Database(file);
    try {
      expect(() => before.exec(`INSERT INTO runs (experiment_id, kind, method, status, config_json, seed, created_at) VALUES (1, 'train', 'caim', 'queued', '{}', 0, 0)`)).toThrow(/CHECK constraint failed/);
    } finally {
      before.close();
    }
    RunStore.migrate(file);
    const store = RunStore.open(file);
    expect(store.getMetricHistory(1, 'loss').map((p) => p.value)).toEqual([0.5, 0.25, Number.NaN]);
    const id = store.createRun({ experiment: 'e', kind: 'train', method: 'ssmb-oracle', config: { x: 1 }, seed: 0 });
    expect(store.requireRun(id).method).toBe('ssmb-oracle');
    expect(store.integrityCheck()).toBe('ok');
    store.close();
  });

  it('v4 also repairs a store copied elsewhere before the upgrade (old absolute paths of the default layout)', () => {
    const oldDir = path.join(dir, 'old');
    mkdirSync(path.join(oldDir, 'artifacts', 'run-1', 'checkpoints'), { recursive: true });
    writeFileSync(path.join(oldDir, 'artifacts', 'run-1', 'scores.txt'), 'x');
    writeFileSync(path.join(oldDir, 'artifacts', 'run-1', 'checkpoints', 'step-2.ckpt'), 'y');
    writeV1Store(path.join(oldDir, 'runs.sqlite'), path.join(oldDir, 'artifacts', 'run-1'));
    const newDir = path.join(dir, 'copy');
    cpSync(oldDir, newDir, { recursive: true });
    rmSync(oldDir, { recursive: true });
    const copied = path.join(newDir, 'runs.sqlite');
    RunStore.migrate(copied);
    const store = RunStore.open(copied);
    expect(store.listArtifacts(1).map((a) => a.path)).toEqual([path.join(newDir, 'artifacts', 'run-1', 'scores.txt'), '/elsewhere/w.safetensors']);
    expect(readFileSync(store.latestCheckpoint(1)!.path, 'utf8')).toBe('y');
    store.close();
  });

  it('the CHECK constraints list exactly the run kinds and statuses the code knows', () => {
    const runs = readFileSync(SNAPSHOT, 'utf8').split('\n').find((l) => l.startsWith('CREATE TABLE runs '))!;
    const check = (col: string) => new RegExp(`${col} TEXT NOT NULL CHECK \\(${col} IN \\(([^)]*)\\)\\)`).exec(runs)![1].split(',').map((s) => s.replace(/'/g, '').trim());
    expect(check('kind')).toEqual([...RUN_KINDS]);
    expect(check('status')).toEqual([...RUN_STATUSES]);
  });

  it('refuses an older or newer schema version, naming both and the command to run', () => {
    RunStore.open(file).close();
    const w = new Database(file);
    w.prepare('UPDATE schema_version SET version = ?').run(SCHEMA_VERSION + 1);
    w.close();
    expect(() => RunStore.open(file)).toThrow(new RegExp(`schema version ${SCHEMA_VERSION + 1}.*version ${SCHEMA_VERSION}`));
    const w2 = new Database(file);
    w2.prepare('UPDATE schema_version SET version = 0').run();
    w2.close();
    let err: unknown;
    try {
      RunStore.open(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('STORE_SCHEMA_OLDER');
    expect((err as Error).message).toContain(`schema version 0, this code expects version ${SCHEMA_VERSION}`);
    expect((err as Error).message).toContain(`ssmb store migrate --store ${file}`);
  });

  it('an SQLite file that is not a run store is reported as such (not as an older schema), and never modified', () => {
    const w = new Database(file);
    w.exec('CREATE TABLE photos (id INTEGER)');
    w.close();
    for (const open of [() => RunStore.open(file), () => RunStore.open(file, { readonly: true }), () => RunStore.migrate(file)]) {
      let err: unknown;
      try {
        open();
      } catch (e) {
        err = e;
      }
      expect((err as StoreError).code).toBe('STORE_NOT_A_STORE');
      expect((err as Error).message).toMatch(/is an SQLite file but not a run store/);
    }
    expect(raw(file, (db) => db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).pluck().all())).toEqual(['photos']);
  });

  it('migrate brings an empty versioned file to the current schema', () => {
    const w = new Database(file);
    w.exec('CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (0);');
    w.close();
    expect(RunStore.migrate(file)).toEqual({ from: 0, to: SCHEMA_VERSION });
    const store = RunStore.open(file);
    expect(store.integrityCheck()).toBe('ok');
    store.close();
    expect(schemaSql(file)).toBe(readFileSync(SNAPSHOT, 'utf8'));
  });

  it('versions are 1..N in order', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    expect(SCHEMA_VERSION).toBe(MIGRATIONS.length);
  });
});

describe('RunStore data', () => {
  let store: RunStore;
  beforeEach(() => (store = RunStore.open(file)));
  afterEach(() => store.close());

  it('metrics_latest keeps the latest step and counts non-NaN points through out-of-order logs and truncation', () => {
    const id = store.createRun({ experiment: 'e', kind: 'noop', config: {}, seed: 1 });
    const latest = () => {
      const { step, value, points, min, max } = store.getLatestMetrics(id).loss;
      return { step, value, points, min, max };
    };
    store.logMetrics(id, [0, 1, 2, 3].map((step) => ({ key: 'loss', step, value: step / 10 })));
    store.logMetrics(id, [{ key: 'loss', step: 4, value: Number.NaN }, { key: 'loss', step: 1, value: 9 }]); // NaN, then an older step
    expect(latest()).toEqual({ step: 4, value: Number.NaN, points: 5, min: 0, max: 9 });
    store.truncateMetricsAfter(id, 2);
    expect(latest()).toEqual({ step: 2, value: 0.2, points: 4, min: 0, max: 9 });
    store.truncateMetricsAfter(id, 0);
    expect(latest()).toEqual({ step: 0, value: 0, points: 1, min: 0, max: 0 });
  });

  it('stores NaN and +-Infinity faithfully in metrics, eval metrics and curves', () => {
    const id = store.createRun({ experiment: 'e', kind: 'noop', config: {}, seed: 1 });
    store.logMetrics(id, [
      { key: 'loss', step: 1, value: Number.NaN },
      { key: 'loss', step: 2, value: Number.POSITIVE_INFINITY },
      { key: 'loss', step: 3, value: Number.NEGATIVE_INFINITY },
      { key: 'loss', step: 4, value: 0.25 },
    ]);
    const h = store.getMetricHistory(id, 'loss').map((p) => p.value);
    expect(Number.isNaN(h[0])).toBe(true);
    expect(h.slice(1)).toEqual([Infinity, -Infinity, 0.25]);
    store.recordEvaluation(id, {
      protocol: 'p',
      fold: '1',
      metrics: { eer: { value: Number.NaN }, auc: { value: Infinity, count: 3 } },
      curves: { roc: { x: [0, Number.NaN], y: [-Infinity, 1], thr: [Infinity, 0] } },
    });
    const ev = store.getEvalMetrics(id);
    expect(ev.find((m) => m.metric === 'auc')).toMatchObject({ value: Infinity, count: 3 });
    expect(Number.isNaN(ev.find((m) => m.metric === 'eer')!.value)).toBe(true);
    const roc = store.getCurves(id)[0].curve;
    expect(Number.isNaN(roc.x[1])).toBe(true);
    expect(roc.y[0]).toBe(-Infinity);
    expect(roc.thr![0]).toBe(Infinity);
  });

  it('params are write-once, tags are mutable', () => {
    const id = store.createRun({ experiment: 'e', kind: 'noop', config: {}, seed: 1 });
    store.logParams(id, { lr: 0.001, n: 4 });
    store.logParams(id, { lr: 0.001 });
    expect(() => store.logParams(id, { lr: 0.01 })).toThrow(/param lr of run .* already "0.001"/);
    expect(store.getParams(id)).toEqual({ lr: '0.001', n: '4' });
    store.setTag(id, 'note', 'a');
    store.setTag(id, 'note', 'b');
    expect(store.getTags(id)).toEqual({ note: 'b' });
  });

  it('buffers metrics and keeps the latest value per key', () => {
    const id = store.createRun({ experiment: 'e', kind: 'noop', config: {}, seed: 1 });
    const log = store.metricLogger(id, 10);
    for (let s = 0; s < 7; s++) log.logMany({ a: s, b: -s }, s);
    expect(log.pending).toBe(4);
    expect(store.getMetricHistory(id, 'a')).toHaveLength(5);
    log.flush();
    expect(store.getMetricHistory(id, 'a').map((p) => p.step)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(store.getLatestMetrics(id).b).toMatchObject({ step: 6, value: -6 });
    store.truncateMetricsAfter(id, 3);
    expect(store.getLatestMetrics(id).a).toMatchObject({ step: 3, value: 3 });
  });

  it('claims runs with a lease, re-queues expired leases and fails runs out of attempts', () => {
    const a = store.createRun({ experiment: 'e', kind: 'noop', config: {}, seed: 1, maxAttempts: 2 });
    const claimed = store.claimRun('w1', 60_000)!;
    expect(claimed).toMatchObject({ id: a, status: 'running', leaseOwner: 'w1', attempts: 1 });
    expect(store.claimRun('w2', 60_000)).toBeUndefined();
    expect(store.heartbeat(a, 'w2', 1000)).toBe(false);
    expect(store.heartbeat(a, 'w1', -1)).toBe(true); // lease now expired
    expect(store.requeueExpired()).toEqual({ requeued: [a], failed: [], cancelled: [] });
    expect(store.claimRun('w2', -1)).toMatchObject({ id: a, attempts: 2 });
    expect(store.requeueExpired()).toEqual({ requeued: [], failed: [a], cancelled: [] });
    expect(store.getRun(a)!.error).toMatch(/expired on attempt 2 of 2/);
  });

  it('sweeps: parent follows its children and is never claimed', () => {
    const { parentId, childIds } = store.createSweep({ experiment: 's', config: {}, seed: 0 }, [
      { kind: 'noop', config: { n: 1 }, seed: 0 },
      { kind: 'noop', config: { n: 2 }, seed: 0 },
    ]);
    expect(store.getRun(parentId)!.status).toBe('queued');
    const c1 = store.claimRun('w', 1000)!;
    expect(c1.id).toBe(childIds[0]);
    expect(store.getRun(parentId)!.status).toBe('running');
    store.completeRun(c1.id, 'w');
    const c2 = store.claimRun('w', 1000)!;
    store.failRun(c2.id, 'boom', 'w');
    expect(store.getRun(parentId)).toMatchObject({ status: 'failed' });
    expect(store.listRuns({ parentRunId: parentId }).map((r) => r.status).sort()).toEqual(['completed', 'failed']);
    expect(() => store.completeRun(c2.id, 'other')).toThrow(/not held by other/);
  });

  it('records evaluations, routing and checkpoints', () => {
    const id = store.createRun({ experiment: 'e', kind: 'train', method: 'ssmb', config: { x: 1 }, seed: 3 });
    store.recordEvaluation(id, {
      protocol: 'p',
      fold: '1',
      metrics: { rank1: { value: 0.5, count: 10 } },
      curves: { cmc: { x: [1, 2], y: [0.5, 1] } },
      routing: [{ block: 'stem', modality: 'NIR', expert: 1, count: 7 }],
    });
    store.recordEvaluation(id, { protocol: 'p', fold: '1', metrics: { rank1: { value: 0.75, count: 10 } } });
    expect(store.getEvalMetrics(id)).toEqual([{ protocol: 'p', fold: '1', metric: 'rank1', value: 0.75, count: 10 }]);
    expect(store.getRouting(id)).toEqual([]);
    store.addCheckpoint(id, 10, '/a');
    store.addCheckpoint(id, 20, '/b');
    expect(store.latestCheckpoint(id)).toMatchObject({ step: 20, path: '/b' });
    expect(store.getRun(id)!.config).toEqual({ x: 1 });
  });

  it('keeps score histograms and embedding samples per fold (float32 vectors, NaN kept), replaced with the fold, refused when inconsistent', () => {
    const id = store.createRun({ experiment: 'e', kind: 'train', method: 'ssmb', config: { x: 1 }, seed: 3 });
    const scores = { lo: -1, hi: 1, genuine: [0, 2, 5], impostor: [40, 9, 1], outside: { genuine: 1, impostor: 0 } };
    const points = [{ role: 'gallery' as const, subject: 's1', modality: 'VIS' }, { role: 'probe' as const, subject: 's1', modality: 'NIR' }];
    const embeddings = { dim: 2, total: { gallery: 10, probe: 30, subjects: 5 }, points, vectors: [0.1, -2, Number.NaN, 3.5] };
    store.recordEvaluation(id, { protocol: 'p', fold: '2', metrics: {}, scores, embeddings });
    store.recordEvaluation(id, { protocol: 'p', fold: '1', metrics: {}, scores: { ...scores, genuine: [1, 1, 1] } });
    expect(store.getScoreHistograms(id)).toEqual([{ protocol: 'p', fold: '1', ...scores, genuine: [1, 1, 1] }, { protocol: 'p', fold: '2', ...scores }]);
    expect(store.listEmbeddingSamples(id)).toEqual([{ protocol: 'p', fold: '2', dim: 2, total: embeddings.total, sampled: { gallery: 1, probe: 1, subjects: 1 } }]);
    const back = store.getEmbeddingSample(id, 'p', '2')!;
    expect(back.points).toEqual(points);
    expect(back.vectors.slice(0, 2)).toEqual([Math.fround(0.1), -2]);
    expect(Number.isNaN(back.vectors[2])).toBe(true);
    expect(back.vectors[3]).toBe(3.5);
    expect(store.getEmbeddingSample(id, 'p', '9')).toBeUndefined();
    // A fold recorded again without them drops its old ones (as curves and routing).
    store.recordEvaluation(id, { protocol: 'p', fold: '2', metrics: {} });
    expect(store.getScoreHistograms(id).map((h) => h.fold)).toEqual(['1']);
    expect(store.listEmbeddingSamples(id)).toEqual([]);
    expect(() => store.recordEvaluation(id, { protocol: 'p', fold: '3', metrics: {}, scores: { ...scores, impostor: [1] } }))
      .toThrow('evaluation scores: expected genuine and impostor counts on the same bins (>= 1), received 3 and 1 bins');
    expect(() => store.recordEvaluation(id, { protocol: 'p', fold: '3', metrics: {}, embeddings: { ...embeddings, vectors: [1] } }))
      .toThrow('evaluation embeddings: expected 2 points x 2 = 4 values, received 1');
    expect(store.getEvalMetrics(id).filter((e) => e.fold === '3')).toEqual([]);
  });

  it('fetches one curve among 200k points and lists 1000 runs quickly', () => {
    const ids: number[] = [];
    store.transaction(() => {
      for (let i = 0; i < 1000; i++) ids.push(store.createRun({ experiment: `e${i % 5}`, kind: 'noop', config: { i }, seed: i }));
    });
    store.transaction(() => {
      for (const id of ids.slice(0, 200)) {
        const pts = [];
        for (let s = 0; s < 1000; s++) pts.push({ key: s % 2 ? 'loss' : 'lr', step: s, value: s });
        store.logMetrics(id, pts);
      }
    });
    const t0 = performance.now();
    const h = store.getMetricHistory(ids[50], 'loss');
    const t1 = performance.now();
    const runs = store.listRuns({ limit: 1000 });
    const t2 = performance.now();
    expect(h.length).toBeGreaterThan(0);
    expect(runs).toHaveLength(1000);
    expect(t1 - t0).toBeLessThan(50);
    expect(t2 - t1).toBeLessThan(500);
    const plan = raw(file, (db) => db.prepare(`EXPLAIN QUERY PLAN SELECT step, value FROM metrics WHERE run_id = ? AND key = ? ORDER BY step`).all(1, 'loss') as { detail: string }[]);
    expect(plan.map((p) => p.detail).join(' ')).toContain('USING COVERING INDEX metrics_run_key_step_value');
    expect(plan.map((p) => p.detail).join(' ')).not.toContain('TEMP B-TREE');
  });
});

describe('RunStore cancel requests', () => {
  let store: RunStore;
  beforeEach(() => (store = RunStore.open(file)));
  afterEach(() => store.close());

  it('a queued run is cancelled at once; a held running run is flagged until its worker stops it', () => {
    const queued = store.createRun({ experiment: 'e', kind: 'noop', config: {}, seed: 0 });
    const running = store.createRun({ experiment: 'e', kind: 'noop', config: {}, seed: 0 });
    store.claimRun('w', 60_000, { runId: running });
    expect(store.requestCancel(queued)).toBe('cancelled');
    expect(store.getRun(queued)!.status).toBe('cancelled');
    expect(store.requestCancel(running)).toBe('requested');
    expect(store.getRun(running)).toMatchObject({ status: 'running', leaseOwner: 'w' });
    expect(store.cancelRequested(running)).toBe(true);
    expect(store.runStates([running])[0].cancelRequested).toBe(true);
    expect(() => store.cancelRun(running, 'another-worker')).toThrow(/not held by another-worker/);
    store.cancelRun(running, 'w'); // what the worker does after its checkpoint
    expect(store.getRun(running)!.status).toBe('cancelled');
    expect(() => store.requestCancel(running)).toThrow(/already cancelled; nothing to cancel/);
    store.requeueRun(running);
    expect(store.getRun(running)).toMatchObject({ status: 'queued', cancelRequestedAt: null });
  });

  it('a running run whose lease expired (its worker is gone) is cancelled at once; a release of a flagged run cancels it', () => {
    const stale = store.createRun({ experiment: 'e', kind: 'noop', config: {}, seed: 0 });
    store.claimRun('dead', -1, { runId: stale });
    expect(store.requestCancel(stale)).toBe('cancelled');
    const released = store.createRun({ experiment: 'e', kind: 'noop', config: {}, seed: 0 });
    store.claimRun('w', 60_000, { runId: released });
    store.requestCancel(released);
    expect(store.releaseRun(released, 'w')).toBe(true);
    expect(store.getRun(released)!.status).toBe('cancelled');
    // A flagged run whose worker then dies is cancelled by the next lease sweep, not re-queued.
    const dies = store.createRun({ experiment: 'e', kind: 'noop', config: {}, seed: 0 });
    store.claimRun('w', 60_000, { runId: dies });
    store.requestCancel(dies);
    expect(store.requeueExpired(Date.now() + 120_000)).toEqual({ requeued: [], failed: [], cancelled: [dies] });
    expect(store.getRun(dies)!.status).toBe('cancelled');
  });

  it('a sweep: queued children cancelled, running ones flagged, the parent cancelled', () => {
    const { parentId, childIds } = store.createSweep({ experiment: 's', config: {}, seed: 0 }, [
      { kind: 'noop', config: {}, seed: 0 },
      { kind: 'noop', config: {}, seed: 0 },
    ]);
    store.claimRun('w', 60_000, { runId: childIds[0] });
    expect(store.requestCancel(parentId)).toBe('requested');
    expect(store.listRuns({ ids: [parentId, ...childIds], sort: 'id', order: 'asc' }).map((r) => [r.status, r.cancelRequestedAt !== null])).toEqual([
      ['cancelled', false], ['running', true], ['cancelled', false],
    ]);
  });
});

describe('RunStore file paths', () => {
  it('stores paths inside the store folder relative to it, so a copied store still resolves them', () => {
    const store = RunStore.open(file);
    const id = store.createRun({ experiment: 'e', kind: 'noop', config: {}, seed: 0 });
    const ck = path.join(dir, 'artifacts', `run-${id}`, 'checkpoints', 'step-1.ckpt');
    mkdirSync(path.dirname(ck), { recursive: true });
    writeFileSync(ck, 'ckpt');
    store.addCheckpoint(id, 1, ck);
    store.addCheckpoint(id, 2, '');
    store.addArtifact(id, 'weights', '/opt/weights/r100.safetensors');
    expect(store.listFiles(id).map((f) => f.storedPath)).toEqual([path.join('artifacts', `run-${id}`, 'checkpoints', 'step-1.ckpt'), '', '/opt/weights/r100.safetensors']);
    store.close();
    const copy = mkdtempSync(path.join(tmpdir(), 'store-copy-'));
    cpSync(dir, copy, { recursive: true });
    rmSync(path.join(dir, 'artifacts'), { recursive: true });
    const moved = RunStore.open(path.join(copy, 'runs.sqlite'));
    const first = moved.listCheckpoints(id)[0];
    expect(first.path).toBe(path.join(copy, 'artifacts', `run-${id}`, 'checkpoints', 'step-1.ckpt'));
    expect(readFileSync(first.path, 'utf8')).toBe('ckpt');
    expect(moved.latestCheckpoint(id)!.path).toBe('');
    expect(moved.listArtifacts(id)[0].path).toBe('/opt/weights/r100.safetensors');
    moved.close();
    rmSync(copy, { recursive: true, force: true });
  });
});

describe('RunStore connection', () => {
  it('keeps its SQLite connection private', () => {
    const store = RunStore.open(file);
    expect('db' in store).toBe(false);
    expect(Object.keys(store)).not.toContain('db');
    store.close();
  });
});
