// The onnxruntime engine on its WebGPU provider, as runs (the machine's Vulkan adapter; lavapipe where there
// is no GPU): 20 SSMB steps give tfjs's per-step losses (relative 1e-3) and routing, and the run records the
// provider and why; auto records its decision; evaluation on webgpu tags its engine with the provider.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchRun } from '../launch.ts';
import { RunStore } from '../store/run_store.ts';
import { runWorker, silentProgress } from '../worker/worker.ts';
import { routingShareKey, TRAIN_METRICS } from '../metric_keys.ts';
import { EVAL_ENGINE_TAG } from '../eval/evaluate_fold.ts';
import { TRAIN_ENGINE_TAG, TRAIN_PROVIDER_REASON_TAG, TRAIN_PROVIDER_TAG } from './engine.ts';
import { tinyConfig, closeTinyWorkspace, openTinyWorkspace } from './test_fixtures.ts';

let root: string;
let store: RunStore;
const logs: string[] = [];
const work = () => runWorker({ store, untilEmpty: true, progress: silentProgress, log: (l) => logs.push(l), handleSignals: false });
const STEPS = 20;
const SETS = [`steps=${STEPS}`, 'checkpointEvery=0', 'evalEvery=0', 'ssmb.numExperts=3', 'eval.engine=tfjs'];

beforeAll(async () => ({ root, store } = await openTinyWorkspace()));
afterAll(() => closeTinyWorkspace(store, root));

const history = (run: number, key: string) => store.getMetricHistory(run, key).map((p) => [p.step, p.value] as const);

describe('training on webgpu (tfjs vs onnxruntime webgpu), 20 steps on the synthetic benchmark', () => {
  it('gives the same per-step losses and routing, and records the provider and why', async () => {
    const viaTfjs = launchRun(store, tinyConfig(root, [...SETS, 'train.engine=tfjs']), { experiment: 'webgpu-parity' });
    const viaGpu = launchRun(store, tinyConfig(root, [...SETS, 'train.engine=onnxruntime', 'train.provider=webgpu', 'train.threads=1']), { experiment: 'webgpu-parity' });
    expect((await work()).failed).toEqual([]);
    expect(store.getTags(viaGpu)).toMatchObject({ [TRAIN_ENGINE_TAG]: 'onnxruntime', [TRAIN_PROVIDER_TAG]: 'webgpu', [TRAIN_PROVIDER_REASON_TAG]: 'configured' });
    for (const key of [TRAIN_METRICS.loss, TRAIN_METRICS.lossCc, TRAIN_METRICS.lossTs, TRAIN_METRICS.lossLb]) {
      const a = history(viaTfjs, key), b = history(viaGpu, key);
      expect(b.map(([s]) => s), key).toEqual(a.map(([s]) => s));
      expect(a.length, key).toBe(STEPS);
      a.forEach(([s, va], i) => expect(Math.abs(b[i][1] - va) / Math.max(Math.abs(va), 1e-6), `${key} at step ${s}: tfjs ${va}, webgpu ${b[i][1]}`).toBeLessThanOrEqual(1e-3));
    }
    for (const tap of ['stem', 'layer1']) {
      for (let k = 0; k < 3; k++) expect(history(viaGpu, routingShareKey(tap, k)), `${tap} expert ${k}`).toEqual(history(viaTfjs, routingShareKey(tap, k)));
    }
  });

  it('auto records its decision and reason; evaluation on webgpu is tagged onnxruntime-webgpu', async () => {
    const run = launchRun(store, tinyConfig(root, ['steps=2', 'checkpointEvery=0', 'evalEvery=2', 'train.engine=onnxruntime', 'train.provider=auto',
      'eval.engine=onnxruntime', 'eval.provider=webgpu']), { experiment: 'webgpu-auto' });
    expect((await work()).failed).toEqual([]);
    const tags = store.getTags(run);
    // this machine: the engine's own decision (a GPU machine gets webgpu and the adapter's name)
    expect(tags[TRAIN_PROVIDER_REASON_TAG]).toMatch(/^auto: (cpu, no GPU for webgpu: .+|webgpu on .+|the CUDA provider is installed)$/);
    expect(tags[TRAIN_PROVIDER_TAG]).toBe(tags[TRAIN_PROVIDER_REASON_TAG].startsWith('auto: cpu') ? 'cpu' : tags[TRAIN_PROVIDER_REASON_TAG].includes('webgpu') ? 'webgpu' : 'cuda');
    expect(logs.join('\n')).toContain(`train.provider auto: onnxruntime on ${tags[TRAIN_PROVIDER_TAG]}; ${tags[TRAIN_PROVIDER_REASON_TAG]}`);
    expect(tags[EVAL_ENGINE_TAG]).toBe('onnxruntime-webgpu');
  });
});
