// The fixed-pair loss estimate (train.lossEvery / train.lossPairs) as runs on the tiny synthetic benchmark:
// logged at step 0, every lossEvery steps and the last step, on both training engines with the same values
// (relative 1e-3); turning it on changes no batch, loss or checkpoint; a restart neither repeats nor loses
// a point; the pairs are fixed, seeded apart from the training sampler.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFold } from '@ssmb/protocols';
import { launchRun } from '../launch.ts';
import { RunStore } from '../store/run_store.ts';
import { runWorker, silentProgress } from '../worker/worker.ts';
import { loadCheckpoint } from '../checkpoint/checkpoint.ts';
import { TRAIN_METRICS } from '../metric_keys.ts';
import { resolveConfig } from '../config.ts';
import { fixedLossChange } from './convergence.ts';
import { fixedLossPairs, fixedPairSeed, isLossEstimateStep } from './fixed_loss.ts';
import { PairSampler } from './pair_sampler.ts';
import { closeTinyWorkspace, dyingStore, openTinyWorkspace, tinyConfig } from './test_fixtures.ts';

let root: string;
let store: RunStore;
const quiet = { progress: silentProgress, log: () => {}, handleSignals: false };
const work = (s: RunStore = store, runId?: number) => runWorker({ store: s, untilEmpty: runId === undefined, runId, ...quiet });
const FIXED_KEYS = [TRAIN_METRICS.lossFixed, TRAIN_METRICS.lossFixedCc, TRAIN_METRICS.lossFixedTs, TRAIN_METRICS.lossFixedLb, TRAIN_METRICS.lossFixedSeconds];
const history = (run: number, key: string) => store.getMetricHistory(run, key).map((p) => [p.step, p.value] as const);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => ({ root, store } = await openTinyWorkspace()));
afterAll(() => closeTinyWorkspace(store, root));

describe('config keys train.lossEvery / train.lossPairs', () => {
  it('default off (32 pairs); bad values name the key, what was received and what was expected', () => {
    const c = resolveConfig({});
    expect(c.train.lossEvery).toBe(0);
    expect(c.train.lossPairs).toBe(32);
    expect(() => resolveConfig({ sets: ['train.lossEvery=-1'] })).toThrow(/config key `train\.lossEvery`: .*>=0.*\(got -1\)/);
    expect(() => resolveConfig({ sets: ['train.lossEvery=2.5'] })).toThrow(/config key `train\.lossEvery`: expected int, got 2\.5/);
    expect(() => resolveConfig({ sets: ['train.lossPairs=1'] })).toThrow(/config key `train\.lossPairs`: .*>=2.*\(got 1\)/);
    expect(() => resolveConfig({ sets: ['train.lossPairs=many'] })).toThrow(/config key `train\.lossPairs`: expected number, got "many"/);
    expect(() => resolveConfig({ sets: ['train.lossEveryy=3'] })).toThrow(/unknown config key `train\.lossEveryy`/);
  });
});

describe('fixed pairs', () => {
  it('are the same for a seed, another set for another seed, and not the training sampler\'s first batch', async () => {
    const fold = await loadFold('synthetic-vis-nir', root, '1');
    const a = fixedLossPairs(fold.train, 5, 12), b = fixedLossPairs(fold.train, 5, 12), c = fixedLossPairs(fold.train, 6, 12);
    expect(a).toEqual(b);
    expect(Array.from(c.anchors)).not.toEqual(Array.from(a.anchors));
    expect(Array.from(new PairSampler(fold.train, 5).next(12).anchors)).not.toEqual(Array.from(a.anchors));
    expect(a.labels.some((y) => y === 1) && a.labels.some((y) => y === 0)).toBe(true);
    expect(fixedPairSeed(5)).not.toBe(5);
    expect(() => fixedLossPairs(fold.train, 5, 0)).toThrow(/train\.lossPairs.*received 0/);
    expect([0, 1, 3, 5, 6, 9, 10].filter((s) => isLossEstimateStep(s, 3, 10))).toEqual([0, 3, 6, 9, 10]);
    expect(isLossEstimateStep(0, 0, 10)).toBe(false);
  });
});

describe('the estimate in training runs', () => {
  const SETS = ['steps=12', 'checkpointEvery=6', 'ssmb.numExperts=3', 'eval.engine=tfjs', 'checkpoint.keepLast=0', 'train.lossPairs=10'];
  let tfjsRun: number;

  it('is logged at 0, every lossEvery steps and the last step, equal on tfjs and onnxruntime; it changes nothing else', async () => {
    tfjsRun = launchRun(store, tinyConfig(root, [...SETS, 'train.engine=tfjs', 'train.lossEvery=5']), { experiment: 'fixed' });
    const ortRun = launchRun(store, tinyConfig(root, [...SETS, 'train.engine=onnxruntime', 'train.threads=1', 'train.lossEvery=5']), { experiment: 'fixed' });
    const off = launchRun(store, tinyConfig(root, [...SETS, 'train.engine=tfjs']), { experiment: 'fixed' });
    expect((await work()).failed).toEqual([]);
    for (const key of FIXED_KEYS) {
      expect(history(tfjsRun, key).map(([s]) => s), key).toEqual([0, 5, 10, 12]);
      expect(history(ortRun, key).map(([s]) => s), key).toEqual([0, 5, 10, 12]);
      expect(store.metricKeys(off)).not.toContain(key);
    }
    for (const key of FIXED_KEYS.slice(0, 4)) {
      const a = history(tfjsRun, key), b = history(ortRun, key);
      a.forEach(([s, va], i) => expect(Math.abs(b[i][1] - va) / Math.max(Math.abs(va), 1e-6), `${key} at ${s}: tfjs ${va}, onnxruntime ${b[i][1]}`).toBeLessThanOrEqual(1e-3));
    }
    // the parts make up the total (loss.lambdaTs 1, loss.alpha 0.01 by default)
    const [cc, ts, lb, total] = [TRAIN_METRICS.lossFixedCc, TRAIN_METRICS.lossFixedTs, TRAIN_METRICS.lossFixedLb, TRAIN_METRICS.lossFixed].map((k) => history(tfjsRun, k));
    total.forEach(([, v], i) => expect(v).toBeCloseTo(cc[i][1] + ts[i][1] + 0.01 * lb[i][1], 5));
    // training moved the estimate (it is not a constant of the pairs)
    const fixed = total.map(([, v]) => v);
    expect(Math.abs(fixed.at(-1)! - fixed[0])).toBeGreaterThan(1e-4 * Math.abs(fixed[0]));
    // on or off: the same batches, losses and final weights (the pairs have their own seed)
    expect(history(tfjsRun, TRAIN_METRICS.loss)).toEqual(history(off, TRAIN_METRICS.loss));
    const ca = loadCheckpoint(store.latestCheckpoint(tfjsRun)!.path), cb = loadCheckpoint(store.latestCheckpoint(off)!.path);
    expect(ca.rngState).toBe(cb.rngState);
    for (const [k, t] of ca.tensors) expect(Buffer.from(cb.tensors.get(k)!.data.buffer).equals(Buffer.from(t.data.buffer)), k).toBe(true);
    // the convergence measure reads these points: 0.8 x 12 = 9.6 -> from step 5 to 12
    const m = fixedLossChange(store.getMetricHistory(tfjsRun, TRAIN_METRICS.lossFixed), 12);
    expect(m).toMatchObject({ measurable: true, from: { step: 5 }, to: { step: 12 }, estimatesAfterStart: 2 });
  });

  it('a run killed after a checkpoint, and one killed before any, resume without repeating or losing a point', async () => {
    const config = tinyConfig(root, [...SETS, 'engine=wasm', 'train.engine=tfjs', 'train.lossEvery=5']);
    // killed at the heartbeat of step 8: checkpoint 6 holds, points 0 and 5 were logged before it
    const id = launchRun(store, config, { experiment: 'fixed-kill', maxAttempts: 5 });
    const s1 = await runWorker({ store: dyingStore(store, (m, a) => m === 'heartbeat' && (a[3] as number) >= 8), runId: id, maxRuns: 1, leaseMs: 150, heartbeatMs: 1, ...quiet });
    expect(s1.lost).toEqual([id]);
    expect(store.latestCheckpoint(id)!.step).toBe(6);
    await sleep(200);
    expect((await work(store, id)).completed).toEqual([id]);
    for (const key of FIXED_KEYS.slice(0, 4)) expect(history(id, key), key).toEqual(history(tfjsRun, key));
    expect(history(id, TRAIN_METRICS.lossFixedSeconds).map(([s]) => s)).toEqual([0, 5, 10, 12]);

    // killed before the first checkpoint: the restart from 0 keeps the step-0 point, once
    const early = launchRun(store, tinyConfig(root, [...SETS, 'checkpointEvery=0', 'train.engine=tfjs', 'train.lossEvery=5']), { experiment: 'fixed-kill', maxAttempts: 5 });
    const s2 = await runWorker({ store: dyingStore(store, (m, a) => m === 'heartbeat' && (a[3] as number) >= 3), runId: early, maxRuns: 1, leaseMs: 150, heartbeatMs: 1, ...quiet });
    expect(s2.lost).toEqual([early]);
    expect(store.latestCheckpoint(early)).toBeUndefined();
    expect(history(early, TRAIN_METRICS.lossFixed).map(([s]) => s)).toEqual([0]);
    await sleep(200);
    expect((await work(store, early)).completed).toEqual([early]);
    expect(history(early, TRAIN_METRICS.lossFixed)).toEqual(history(tfjsRun, TRAIN_METRICS.lossFixed));
  });
});
