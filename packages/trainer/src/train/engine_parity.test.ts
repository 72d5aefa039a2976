// The two training engines on the synthetic benchmark, as runs: 20 SSMB steps with train.engine=tfjs and
// with train.engine=onnxruntime give the same per-step losses (relative 1e-3) and the same routing (the
// share of the batch each expert got, per block and step); each run records the engine it used; and a run
// checkpointed on one engine resumes on the other to the same losses (checkpoints are engine-independent).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchRun } from '../launch.ts';
import { RunStore } from '../store/run_store.ts';
import { runWorker, silentProgress } from '../worker/worker.ts';
import { runDirFor } from '../worker/run_context.ts';
import { checkpointPath, loadCheckpoint, saveCheckpoint } from '../checkpoint/checkpoint.ts';
import { routingShareKey, TRAIN_METRICS } from '../metric_keys.ts';
import { TAG_NOT_APPLICABLE, TRAIN_ENGINE_TAG, TRAIN_FALLBACK_TAG, TRAIN_PROVIDER_TAG, TRAIN_THREADS_TAG } from './engine.ts';
import { tinyConfig, closeTinyWorkspace, openTinyWorkspace } from './test_fixtures.ts';

let root: string;
let store: RunStore;
const work = () => runWorker({ store, untilEmpty: true, progress: silentProgress, log: () => {}, handleSignals: false });
const STEPS = 20;
// N = 3 at stem and layer1: routing has decisions to agree on; keepLast 0 keeps every checkpoint
const SETS = [`steps=${STEPS}`, 'checkpointEvery=10', 'evalEvery=0', 'ssmb.numExperts=3', 'eval.engine=tfjs', 'checkpoint.keepLast=0'];

beforeAll(async () => ({ root, store } = await openTinyWorkspace()));
afterAll(() => closeTinyWorkspace(store, root));

const history = (run: number, key: string) => store.getMetricHistory(run, key).map((p) => [p.step, p.value] as const);

function expectSameLosses(a: number, b: number, fromStep = 1): void {
  for (const key of [TRAIN_METRICS.loss, TRAIN_METRICS.lossCc, TRAIN_METRICS.lossTs, TRAIN_METRICS.lossLb]) {
    const ha = history(a, key).filter(([s]) => s >= fromStep);
    const hb = history(b, key).filter(([s]) => s >= fromStep);
    expect(hb.map(([s]) => s), key).toEqual(ha.map(([s]) => s));
    expect(ha.length, key).toBe(STEPS - fromStep + 1);
    ha.forEach(([s, va], i) => {
      const vb = hb[i][1];
      expect(Math.abs(vb - va) / Math.max(Math.abs(va), 1e-6), `${key} at step ${s}: tfjs ${va}, onnxruntime ${vb}`).toBeLessThanOrEqual(1e-3);
    });
  }
}

describe('training engines (tfjs vs onnxruntime), 20 steps on the synthetic benchmark', () => {
  let viaTfjs: number;
  let viaOrt: number;
  it('give the same per-step losses and routing, and record their engine', async () => {
    viaTfjs = launchRun(store, tinyConfig(root, [...SETS, 'train.engine=tfjs']), { experiment: 'engine-parity' });
    viaOrt = launchRun(store, tinyConfig(root, [...SETS, 'train.engine=onnxruntime', 'train.threads=1']), { experiment: 'engine-parity' });
    expect((await work()).failed).toEqual([]);
    expect(store.getTags(viaTfjs)).toMatchObject({
      [TRAIN_ENGINE_TAG]: 'tfjs-wasm', [TRAIN_PROVIDER_TAG]: TAG_NOT_APPLICABLE, [TRAIN_THREADS_TAG]: TAG_NOT_APPLICABLE, [TRAIN_FALLBACK_TAG]: TAG_NOT_APPLICABLE,
    });
    expect(store.getTags(viaOrt)).toMatchObject({
      [TRAIN_ENGINE_TAG]: 'onnxruntime', [TRAIN_PROVIDER_TAG]: 'cpu', [TRAIN_THREADS_TAG]: '1', [TRAIN_FALLBACK_TAG]: TAG_NOT_APPLICABLE,
    });
    expectSameLosses(viaTfjs, viaOrt);
    // the loss moved: the steps trained something (not 20 copies of the initial loss)
    const loss = history(viaTfjs, TRAIN_METRICS.loss).map(([, v]) => v);
    expect(Math.max(...loss) - Math.min(...loss)).toBeGreaterThan(1e-3 * Math.abs(loss[0]));
    let split = 0;
    for (const tap of ['stem', 'layer1']) {
      for (let k = 0; k < 3; k++) {
        const key = routingShareKey(tap, k);
        const ha = history(viaTfjs, key), hb = history(viaOrt, key);
        expect(ha.length, key).toBe(STEPS);
        expect(hb, key).toEqual(ha); // the same decisions: shares are counts / batch, exact
        split += ha.filter(([, v]) => v > 0 && v < 1).length;
      }
    }
    expect(split, 'steps where a block split its batch between experts').toBeGreaterThan(0);
  });

  it('a run checkpointed on tfjs resumes on onnxruntime to the same losses', async () => {
    // run R on onnxruntime starts from the tfjs run's step-10 checkpoint (weights, Adam moments, sampler state)
    const config = tinyConfig(root, [...SETS, 'train.engine=onnxruntime', 'train.threads=1']);
    const resumed = launchRun(store, config, { experiment: 'engine-parity' });
    const from = store.listCheckpoints(viaTfjs).find((c) => c.step === 10)!;
    const ck = loadCheckpoint(from.path);
    const file = checkpointPath(runDirFor(store, config, resumed), 10);
    saveCheckpoint(file, { ...ck, runId: resumed, config });
    store.addCheckpoint(resumed, 10, file);
    expect((await work()).failed).toEqual([]);
    expect(store.getTags(resumed)[TRAIN_ENGINE_TAG]).toBe('onnxruntime');
    expect(history(resumed, TRAIN_METRICS.loss).map(([s]) => s)).toEqual(Array.from({ length: 10 }, (_, i) => 11 + i));
    expectSameLosses(viaTfjs, resumed, 11);
  });
});
