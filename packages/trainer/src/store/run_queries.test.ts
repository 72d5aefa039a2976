// The store's read path (what the dashboard and the CLI list): one filter for records and summaries,
// derived columns only where their config key applies, archived runs counted the same everywhere,
// NaN as NaN, ablation std only when n > 1, grouped-curve bucket means.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RunStore } from './run_store.ts';
import { defaultConfig, mergeConfig } from '../config.ts';
import { TRAIN_METRICS } from '../metric_keys.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'store-q-'));
let store: RunStore;
const ids: Record<string, number> = {};
const cfg = (o: unknown) => mergeConfig(defaultConfig(), o);

beforeAll(() => {
  store = RunStore.open(path.join(dir, 'runs.sqlite'));
  ids.n1 = store.createRun({ experiment: 'abl', kind: 'train', method: 'ssmb', config: cfg({ ssmb: { numExperts: 1 }, dataset: { protocol: 'p', fold: '1' } }), seed: 0, name: 'n1' });
  ids.n4a = store.createRun({ experiment: 'abl', kind: 'train', method: 'ssmb', config: cfg({ ssmb: { numExperts: 4 }, dataset: { protocol: 'p', fold: '1' } }), seed: 0, name: 'n4a' });
  ids.n4b = store.createRun({ experiment: 'abl', kind: 'train', method: 'ssmb', config: cfg({ ssmb: { numExperts: 4 }, dataset: { protocol: 'p', fold: '2' } }), seed: 0, name: 'n4b' });
  // The default config says ssmb.numExperts = 4 for every run: only SSMB runs may be grouped by it.
  ids.base = store.createRun({ experiment: 'abl', kind: 'evaluate', method: 'baseline', config: cfg({ method: 'baseline', dataset: { protocol: 'p', fold: '1' } }), seed: 0, name: 'base' });
  ids.pre = store.createRun({ experiment: 'pre', kind: 'pretrain', method: null, config: cfg({ pretrain: { protocol: 'vis-only' } }), seed: 0, name: 'pre' });
  ids.archived = store.createRun({ experiment: 'abl', kind: 'train', method: 'ssmb', config: cfg({ ssmb: { numExperts: 4 } }), seed: 0, name: 'gone' });
  const ev = (id: number, fold: string, rank1: number) => store.recordEvaluation(id, { protocol: 'p', fold, metrics: { rank1: { value: rank1 }, eer: { value: Number.NaN } } });
  ev(ids.n1, '1', 0.6);
  ev(ids.n4a, '1', 0.8);
  ev(ids.n4b, '2', 0.9);
  ev(ids.base, '1', 0.4);
  ev(ids.archived, '1', 0.1);
  store.archiveRuns([ids.archived], true);
  for (const [id, scale] of [[ids.n4a, 1], [ids.n4b, 3]] as const) {
    store.logMetrics(id, Array.from({ length: 10 }, (_, s) => ({ key: TRAIN_METRICS.loss, step: s, value: scale * (10 - s) })));
  }
  store.setTags([ids.n1, ids.n4a], 'paper', 'table2');
});
afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('queryRuns and listRuns', () => {
  it('read the same runs for the same filter (archived runs left out of both by default)', () => {
    const records = store.listRuns({ experiment: 'abl' }).map((r) => r.id);
    const summaries = store.queryRuns({ experiment: 'abl' });
    expect(summaries.runs.map((r) => r.id)).toEqual(records);
    expect(summaries.total).toBe(records.length);
    expect(records).not.toContain(ids.archived);
    expect(store.listRuns({ archived: 'only' }).map((r) => r.id)).toEqual([ids.archived]);
    expect(store.queryRuns({ archived: 'include', experiment: 'abl' }).total).toBe(records.length + 1);
  });

  it('derive N, protocol and fold only where they apply: no N for the baseline, the pre-training protocol for pretrain', () => {
    const byName = Object.fromEntries(store.queryRuns({ archived: 'include' }).runs.map((r) => [r.name, r]));
    expect(byName.n4a).toMatchObject({ numExperts: 4, protocol: 'p', fold: '1', backbone: 'iresnet-synth' });
    expect(byName.base).toMatchObject({ numExperts: null, protocol: 'p', fold: '1' });
    expect(byName.pre).toMatchObject({ numExperts: null, protocol: 'vis-only', fold: null });
  });

  it('summaries carry tags, fold means (NaN folds not counted) and last/min/max of the requested per-step keys', () => {
    const [n4b] = store.queryRuns({ ids: [ids.n4b] }).runs;
    expect(n4b.metrics.rank1).toBeCloseTo(0.9, 12);
    expect(n4b.metrics.eer).toBeNull(); // every fold NaN: no mean
    expect(n4b.latest.loss).toMatchObject({ step: 9, value: 3, min: 3, max: 30, points: 10 });
    expect(store.queryRuns({ tag: 'paper=table2', sort: 'id', order: 'asc' }).runs.map((r) => r.id)).toEqual([ids.n1, ids.n4a]);
    expect(store.queryRuns({ search: 'vis-only' }).runs.map((r) => r.name)).toEqual(['pre']);
  });

  it('a stale run (running, lease expired) is marked stale', () => {
    const id = store.createRun({ experiment: 'stale', kind: 'noop', config: {}, seed: 0 });
    store.claimRun('gone-worker', -1000, { runId: id });
    expect(store.queryRuns({ ids: [id] }).runs[0]).toMatchObject({ status: 'running', stale: true });
    store.cancelRun(id);
  });

  it('experiments count active and archived runs separately', () => {
    const abl = store.listExperiments().find((e) => e.name === 'abl')!;
    expect([abl.runCount, abl.archivedCount]).toEqual([4, 1]);
  });

  it('bulk tags and archive are all-or-nothing: an unknown id changes nothing', () => {
    expect(() => store.setTags([ids.n1, 99_999], 'bulk', '1')).toThrow(/run 99999 does not exist/);
    expect(store.getTags(ids.n1)).not.toHaveProperty('bulk');
    expect(() => store.archiveRuns([ids.n1, 99_999], true)).toThrow(/run 99999 does not exist/);
    expect(store.getRun(ids.n1)!.deletedAt).toBeNull();
  });
});

describe('ablation and evalByConfigKey', () => {
  it('group only runs for which the key applies; std is NaN for a single value', () => {
    const pts = store.ablation({ metric: 'rank1', key: 'ssmb.numExperts' });
    expect(pts.map((p) => [p.x, p.n])).toEqual([[1, 1], [4, 2]]);
    expect(Number.isNaN(pts[0].std)).toBe(true);
    expect(pts[1].mean).toBeCloseTo(0.85, 12);
    expect(pts[1].std).toBeCloseTo(Math.sqrt(0.005), 12);
    expect(pts[1].runIds).toEqual([ids.n4a, ids.n4b]);
    // The frozen baseline is its own reference, read by method.
    expect(store.ablation({ metric: 'rank1', key: 'method', method: 'baseline' }).map((p) => [p.x, p.mean])).toEqual([['baseline', 0.4]]);
  });

  it('label each row with whether the key applies, so tables never merge the baseline into N = 4', () => {
    const rows = store.evalByConfigKey({ metrics: ['rank1'], key: 'ssmb.numExperts' });
    const base = rows.find((r) => r.runId === ids.base)!;
    expect(base).toMatchObject({ applies: false, method: 'baseline', x: 4 });
    expect(rows.filter((r) => r.applies).map((r) => r.x).sort()).toEqual([1, 4, 4]);
  });
});

describe('ablation over two keys (by)', () => {
  it('one series per value of the second key, each over the runs both keys apply to', () => {
    const own = RunStore.open(path.join(dir, 'kinds.sqlite'));
    try {
      const run = (kind: string, n: number, fold: string, rank1: number) => {
        const id = own.createRun({ experiment: 'k', kind: 'train', method: 'ssmb', config: cfg({ ssmb: { expertKind: kind, numExperts: n }, dataset: { protocol: 'p', fold } }), seed: 0 });
        own.recordEvaluation(id, { protocol: 'p', fold, metrics: { rank1: { value: rank1 } } });
        return id;
      };
      const a1 = [run('affine', 1, '1', 0.5), run('affine', 1, '2', 0.7)];
      const a4 = run('affine', 4, '1', 0.9);
      const s1 = run('style', 1, '1', 0.8);
      const base = own.createRun({ experiment: 'k', kind: 'evaluate', method: 'baseline', config: cfg({ method: 'baseline', dataset: { protocol: 'p', fold: '1' } }), seed: 0 });
      own.recordEvaluation(base, { protocol: 'p', fold: '1', metrics: { rank1: { value: 0.3 } } });
      const pts = own.ablation({ metric: 'rank1', key: 'ssmb.numExperts', by: 'ssmb.expertKind' });
      expect(pts.map((p) => [p.series, p.x, p.n, p.runIds])).toEqual([['affine', 1, 2, a1], ['affine', 4, 1, [a4]], ['style', 1, 1, [s1]]]);
      expect(pts[0].mean).toBeCloseTo(0.6, 12);
      expect(pts[0].std).toBeCloseTo(Math.sqrt(0.02), 12);
      // without `by` the kinds are pooled, and no series is reported
      const pooled = own.ablation({ metric: 'rank1', key: 'ssmb.numExperts' });
      expect(pooled.map((p) => [p.x, p.n, 'series' in p])).toEqual([[1, 3, false], [4, 1, false]]);
    } finally {
      own.close();
    }
  });
});

describe('metric bucket means (grouped curves)', () => {
  it('averages each run over equal step ranges', () => {
    const range = store.metricStepRange([ids.n4a, ids.n4b], TRAIN_METRICS.loss)!;
    expect(range).toEqual({ lo: 0, hi: 9 });
    const [a, b] = store.metricBucketMeans([ids.n4a, ids.n4b], TRAIN_METRICS.loss, { ...range, buckets: 5 });
    expect([...a.means]).toEqual([[0, 9.5], [1, 7.5], [2, 5.5], [3, 3.5], [4, 1.5]]);
    expect(b.means.get(0)).toBe(28.5);
    expect(store.metricStepRange([ids.n1], TRAIN_METRICS.loss)).toBeNull();
    expect(() => store.metricBucketMeans([ids.n1], 'loss', { lo: 0, hi: 1, buckets: 0 })).toThrow(/buckets must be an integer >= 1, received 0/);
  });
});
