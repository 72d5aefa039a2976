import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RunStore, StoreError } from './run_store.ts';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.ts';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'store-'));
  file = path.join(dir, 'runs.sqlite');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function schemaSql(db: Database.Database): string {
  const rows = db.prepare(`SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY type, name`).all() as {
    sql: string;
  }[];
  return rows.map((r) => r.sql.replace(/\s+/g, ' ').trim() + ';').join('\n') + '\n';
}

describe('RunStore schema', () => {
  it('pins the schema produced by the migrations', async () => {
    const store = RunStore.open(file);
    expect(store.schemaVersion()).toBe(SCHEMA_VERSION);
    await expect(schemaSql(store.db)).toMatchFileSnapshot('./__snapshots__/schema.sql');
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    store.close();
  });

  it('refuses an older or newer schema version, naming both and the command to run', () => {
    RunStore.open(file).close();
    const raw = new Database(file);
    raw.prepare('UPDATE schema_version SET version = ?').run(SCHEMA_VERSION + 1);
    raw.close();
    expect(() => RunStore.open(file)).toThrow(new RegExp(`schema version ${SCHEMA_VERSION + 1}.*version ${SCHEMA_VERSION}`));
    const raw2 = new Database(file);
    raw2.prepare('UPDATE schema_version SET version = 0').run();
    raw2.close();
    let err: unknown;
    try {
      RunStore.open(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).message).toContain(`schema version 0, this code expects version ${SCHEMA_VERSION}`);
    expect((err as Error).message).toContain(`ssmb store migrate --store ${file}`);
  });

  it('migrate brings an empty versioned file to the current schema', () => {
    const raw = new Database(file);
    raw.exec('CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (0);');
    raw.close();
    expect(RunStore.migrate(file)).toEqual({ from: 0, to: SCHEMA_VERSION });
    const store = RunStore.open(file);
    expect(store.integrityCheck()).toBe('ok');
    store.close();
  });

  it('versions are 1..N in order, and migrate upgrades a version-1 store keeping its data (v2 covering metrics index, v3 point counts)', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    expect(SCHEMA_VERSION).toBe(3);
    const raw = new Database(file);
    raw.exec(`CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1);`);
    raw.exec(MIGRATIONS[0].sql);
    raw.exec(`INSERT INTO experiments (name, created_at) VALUES ('e', 0);
      INSERT INTO runs (experiment_id, kind, status, config_json, seed, created_at) VALUES (1, 'noop', 'completed', '{}', 0, 0);
      INSERT INTO metrics (run_id, key, step, value, time) VALUES (1, 'loss', 0, 0.5, 0), (1, 'loss', 1, 0.25, 0), (1, 'loss', 2, NULL, 0);
      INSERT INTO metrics_latest (run_id, key, step, value, time) VALUES (1, 'loss', 2, NULL, 0);`);
    raw.close();
    expect(() => RunStore.open(file)).toThrow(/schema version 1, this code expects version 3/);
    expect(RunStore.migrate(file)).toEqual({ from: 1, to: 3 });
    const store = RunStore.open(file);
    expect(store.getMetricHistory(1, 'loss').map((p) => p.value)).toEqual([0.5, 0.25, Number.NaN]);
    expect(store.db.prepare('SELECT points FROM metrics_latest').pluck().get()).toBe(2); // backfilled, NaN not counted
    const indexes = store.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'metrics'`).all() as { name: string }[];
    expect(indexes.map((i) => i.name)).toEqual(['metrics_run_key_step_value']);
    store.close();
  });
});

describe('RunStore data', () => {
  let store: RunStore;
  beforeEach(() => (store = RunStore.open(file)));
  afterEach(() => store.close());

  it('metrics_latest keeps the latest step and counts non-NaN points through out-of-order logs and truncation', () => {
    const id = store.createRun({ experiment: 'e', kind: 'noop', config: {}, seed: 1 });
    const latest = () => store.db.prepare('SELECT step, value, points FROM metrics_latest WHERE run_id = ? AND key = ?').get(id, 'loss');
    store.logMetrics(id, [0, 1, 2, 3].map((step) => ({ key: 'loss', step, value: step / 10 })));
    store.logMetrics(id, [{ key: 'loss', step: 4, value: Number.NaN }, { key: 'loss', step: 1, value: 9 }]); // NaN, then an older step
    expect(latest()).toEqual({ step: 4, value: null, points: 5 });
    store.truncateMetricsAfter(id, 2);
    expect(latest()).toEqual({ step: 2, value: 0.2, points: 4 });
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
    expect(store.requeueExpired()).toEqual({ requeued: [a], failed: [] });
    expect(store.claimRun('w2', -1)).toMatchObject({ id: a, attempts: 2 });
    expect(store.requeueExpired()).toEqual({ requeued: [], failed: [a] });
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
    const plan = store.db.prepare(`EXPLAIN QUERY PLAN SELECT step, value FROM metrics WHERE run_id = ? AND key = ? ORDER BY step`).all(1, 'loss') as { detail: string }[];
    expect(plan.map((p) => p.detail).join(' ')).toContain('USING COVERING INDEX metrics_run_key_step_value');
    expect(plan.map((p) => p.detail).join(' ')).not.toContain('TEMP B-TREE');
  });
});
