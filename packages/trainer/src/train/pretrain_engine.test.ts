// Backbone pre-training on both engines, as runs on the tiny synthetic dataset: 8 ArcFace steps with
// train.engine=tfjs and with train.engine=onnxruntime give the same per-step losses (relative 1e-3) and
// nearly the same final weights and running statistics; each run records its engine; a run checkpointed on
// tfjs resumes on onnxruntime to the same losses; auto falls back to tfjs with the reason recorded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchRun } from '../launch.ts';
import { RunStore } from '../store/run_store.ts';
import { runWorker } from '../worker/worker.ts';
import { silentProgress } from '../worker/worker.ts';
import { runDirFor } from '../worker/run_context.ts';
import { checkpointPath, loadCheckpoint, saveCheckpoint } from '../checkpoint/checkpoint.ts';
import { TAG_NOT_APPLICABLE, TRAIN_ENGINE_TAG, TRAIN_FALLBACK_TAG, TRAIN_PROVIDER_TAG, TRAIN_THREADS_TAG } from './engine.ts';
import { readModelTensors } from './weights.ts';
import { tinyConfig, closeTinyWorkspace, openTinyWorkspace } from './test_fixtures.ts';

let root: string;
let store: RunStore;
const logs: string[] = [];
const work = () => runWorker({ store, untilEmpty: true, progress: silentProgress, log: (m) => logs.push(m), handleSignals: false });
const STEPS = 8;
const SETS = ['checkpointEvery=4', 'checkpoint.keepLast=0', 'eval.engine=tfjs'];

beforeAll(async () => ({ root, store } = await openTinyWorkspace()));
afterAll(() => closeTinyWorkspace(store, root));

const losses = (run: number) => store.getMetricHistory(run, 'loss').map((p) => [p.step, p.value] as const);

function expectSameLosses(a: number, b: number, fromStep = 1): void {
  const ha = losses(a).filter(([s]) => s >= fromStep), hb = losses(b).filter(([s]) => s >= fromStep);
  expect(ha.length).toBe(STEPS - fromStep + 1);
  expect(hb.map(([s]) => s)).toEqual(ha.map(([s]) => s));
  ha.forEach(([s, va], i) => expect(Math.abs(hb[i][1] - va) / Math.abs(va), `loss at step ${s}: tfjs ${va}, onnxruntime ${hb[i][1]}`).toBeLessThanOrEqual(1e-3));
}

const weightsOf = (run: number) => readModelTensors(store.listArtifacts(run).find((a) => a.kind === 'weights')!.path);

describe('backbone pre-training engines (tfjs vs onnxruntime)', () => {
  let viaTfjs: number;
  it('give the same per-step losses and weights, and record their engine', async () => {
    viaTfjs = launchRun(store, tinyConfig(root, [...SETS, 'train.engine=tfjs']), { experiment: 'pre', kind: 'pretrain' });
    const viaOrt = launchRun(store, tinyConfig(root, [...SETS, 'train.engine=onnxruntime', 'train.threads=1']), { experiment: 'pre', kind: 'pretrain' });
    expect((await work()).failed).toEqual([]);
    expect(store.getTags(viaTfjs)).toMatchObject({
      [TRAIN_ENGINE_TAG]: 'tfjs-wasm', [TRAIN_PROVIDER_TAG]: TAG_NOT_APPLICABLE, [TRAIN_THREADS_TAG]: TAG_NOT_APPLICABLE, [TRAIN_FALLBACK_TAG]: TAG_NOT_APPLICABLE,
    });
    expect(store.getTags(viaOrt)).toMatchObject({
      [TRAIN_ENGINE_TAG]: 'onnxruntime', [TRAIN_PROVIDER_TAG]: 'cpu', [TRAIN_THREADS_TAG]: '1', [TRAIN_FALLBACK_TAG]: TAG_NOT_APPLICABLE,
    });
    expectSameLosses(viaTfjs, viaOrt);
    const loss = losses(viaTfjs).map(([, v]) => v);
    expect(Math.max(...loss) - Math.min(...loss), 'the steps trained something').toBeGreaterThan(1e-2 * loss[0]);
    // same tensor keys; every weight and running statistic moved alike (relative to its tensor's scale).
    // Not compared: the shifts whose only consumer is a training-mode BN (it removes any per-channel
    // constant, so their true gradient is 0 and both engines see float32 noise, which Adam normalises into
    // +-lr steps of random sign), and the running means downstream of them, which record those shifts.
    const shiftOnly = /(bn3|downsample\.1|^bn2|^fc)\.bias$|running_mean$/;
    const a = weightsOf(viaTfjs), b = weightsOf(viaOrt);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    expect([...a.keys()].filter((k) => !shiftOnly.test(k)).length).toBeGreaterThan(20);
    for (const [k, t] of a) {
      if (shiftOnly.test(k)) continue;
      const u = b.get(k)!.data;
      let d = 0, s = 1e-3;
      for (let i = 0; i < t.data.length; i++) { d = Math.max(d, Math.abs(u[i] - t.data[i])); s = Math.max(s, Math.abs(t.data[i])); }
      expect(d / s, k).toBeLessThan(1e-3);
    }
  }, 120_000);

  it('a run checkpointed on tfjs resumes on onnxruntime to the same losses', async () => {
    const config = tinyConfig(root, [...SETS, 'train.engine=onnxruntime', 'train.threads=1']);
    const resumed = launchRun(store, config, { experiment: 'pre', kind: 'pretrain' });
    const from = store.listCheckpoints(viaTfjs).find((c) => c.step === 4)!;
    const ck = loadCheckpoint(from.path);
    const file = checkpointPath(runDirFor(store, config, resumed), 4);
    saveCheckpoint(file, { ...ck, runId: resumed, config });
    store.addCheckpoint(resumed, 4, file);
    expect((await work()).failed).toEqual([]);
    expect(store.getTags(resumed)[TRAIN_ENGINE_TAG]).toBe('onnxruntime');
    expect(losses(resumed).map(([s]) => s)).toEqual([5, 6, 7, 8]);
    expectSameLosses(viaTfjs, resumed, 5);
  }, 120_000);

  it('auto falls back to tfjs when onnxruntime cannot run, logging and recording the reason', async () => {
    logs.length = 0;
    const id = launchRun(store, tinyConfig(root, [...SETS, 'train.engine=auto', 'train.provider=nosuch', 'pretrain.steps=2']), { experiment: 'pre', kind: 'pretrain' });
    expect((await work()).failed).toEqual([]);
    const tags = store.getTags(id);
    expect(tags[TRAIN_ENGINE_TAG]).toBe('tfjs-wasm');
    expect(tags[TRAIN_FALLBACK_TAG]).toMatch(/onnxruntime unavailable: train.provider 'nosuch': onnxruntime-node has no execution provider 'nosuch'/);
    expect(logs.join('\n')).toMatch(/train.engine auto: training on tfjs-wasm; onnxruntime unavailable: train.provider 'nosuch'/);
    // asked for explicitly, the same problem fails the run with that message instead
    const strict = launchRun(store, tinyConfig(root, [...SETS, 'train.engine=onnxruntime', 'train.provider=nosuch', 'pretrain.steps=2']), { experiment: 'pre', kind: 'pretrain' });
    const s = await work();
    expect(s.failed.map((f) => f.id)).toEqual([strict]);
    expect(store.getRun(strict)!.error ?? '').toMatch(/no execution provider 'nosuch'/);
  }, 120_000);
});
