import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RunStore } from '../store/run_store.ts';
import { expandGrid } from './grid.ts';
import { planGrid, runIdentity, summarisePlan } from './resume.ts';
import { resolveConfig } from '../config.ts';
import { collectFoldResults, collectRouting } from './results.ts';
import { demoTable, foldsOf } from './fixtures.test-helpers.ts';

describe('skip-completed planning against a real store', () => {
  it('skips completed runs, leaves live ones, re-queues failed ones, ignores other configs', () => {
    const store = RunStore.open(path.join(mkdtempSync(path.join(tmpdir(), 'ssmb-resume-')), 'runs.sqlite'));
    const grid = expandGrid(demoTable(), { roots: { synth: '/d' }, weights: '/w.safetensors', foldsOf });
    const first = planGrid(grid, store.listRuns());
    expect(summarisePlan(first)).toEqual({ total: 7, completed: 0, pending: 0, todo: 7 });

    const add = (i: number, status: 'completed' | 'queued' | 'failed', patch: Record<string, unknown> = {}) =>
      store.createRun({ experiment: 'table:demo', kind: 'train', method: first[i].config.method, config: { ...first[i].config, ...patch }, seed: 0, status });
    const done = add(0, 'completed');
    add(1, 'queued');
    add(2, 'failed');
    add(3, 'completed', { steps: 999 }); // different config: not this entry
    add(4, 'completed', { outputDir: '/elsewhere' }); // only a non-identity key differs: same run
    const plan = planGrid(grid, store.listRuns());
    expect(plan.map((p) => p.state)).toEqual(['completed', 'pending', 'todo', 'todo', 'completed', 'todo', 'todo']);
    expect(plan[0].run!.id).toBe(done);
    expect(plan[2].run!.status).toBe('failed');

    // results come back per fold, only for completed entries and their own protocol/fold
    store.recordEvaluation(done, {
      protocol: 'p-vis-vis', fold: '1', metrics: { rank1: { value: 0.9, count: 40 }, eer: { value: 0.05 } },
      routing: [{ block: 'stem', modality: 'VIS', expert: 0, count: 7 }],
    });
    store.recordEvaluation(done, { protocol: 'p-vis-nir', fold: '2', metrics: { rank1: { value: 0.1 } } });
    // with what each value was measured over (the probes behind Rank-1), for the tables' significance tests
    expect(collectFoldResults(store, plan)).toEqual([{ row: 'baseline', column: 'vv', fold: '1', metrics: { rank1: 0.9, eer: 0.05 }, trials: { rank1: 40 } }]);
    expect(collectRouting(store, plan)).toEqual([{ row: 'baseline', column: 'vv', block: 'stem', modality: 'VIS', expert: 0, count: 7 }]);
    expect(collectRouting(store, plan, ['vn'])).toEqual([]);
    store.close();
  });

  it('identity ignores key order and non-identity keys', () => {
    expect(runIdentity({ a: 1, b: { c: 2, d: 3 }, outputDir: 'x' })).toBe(runIdentity({ b: { d: 3, c: 2 }, a: 1, outputDir: 'y' }));
    expect(runIdentity({ a: 1 })).not.toBe(runIdentity({ a: 2 }));
    // the evaluation engine (tfjs or onnxruntime) agrees to float tolerance: stores from before the key existed still match
    expect(runIdentity({ a: 1, eval: { batchSize: 8 } })).toBe(runIdentity({ a: 1, eval: { batchSize: 64, engine: 'onnxruntime' } }));
    // dataset.onMissing at its default is what every run did before the key existed; skipping entries is another run
    expect(runIdentity({ dataset: { root: 'r' } })).toBe(runIdentity({ dataset: { root: 'r', onMissing: 'error' } }));
    expect(runIdentity({ dataset: { root: 'r' } })).not.toBe(runIdentity({ dataset: { root: 'r', onMissing: 'skip' } }));
  });

  it('the router options at their defaults keep the identity of runs stored before them; other values are other runs', () => {
    const now = resolveConfig({ base: { ssmb: { numExperts: 2 } } });
    const { routerInput: _a, routerJitter: _b, routing: _c, ...before } = now.ssmb; // what a stored run's config_json holds
    const stored = { ...now, ssmb: before };
    expect(runIdentity(stored)).toBe(runIdentity(now));
    for (const set of ['ssmb.routing=soft', 'ssmb.routerInput=mean', 'ssmb.routerJitter=0.01', 'ssmb.expertKind=affine']) {
      expect(runIdentity(resolveConfig({ base: { ssmb: { numExperts: 2 } }, sets: [set] })), set).not.toBe(runIdentity(stored));
    }
  });

  it('every key added since: at its default a run stored before it has the same identity (a store is never run again for a new key)', () => {
    // a stored run's config_json from before the precision keys and the evaluation protocols existed
    const now = resolveConfig({ base: { ssmb: { numExperts: 2 } } });
    const { precision: _t, ...train } = now.train;
    const { precision: _e, ...evalCfg } = now.eval;
    const { evalProtocols: _p, ...dataset } = now.dataset;
    const stored = { ...now, train, eval: evalCfg, dataset };
    expect(runIdentity(stored)).toBe(runIdentity(now));
    for (const set of ['train.precision=int8', 'eval.precision=int8', 'eval.precision=fp32']) {
      expect(runIdentity(resolveConfig({ base: { ssmb: { numExperts: 2 } }, sets: [set] })), set).not.toBe(runIdentity(stored));
    }
  });
});
