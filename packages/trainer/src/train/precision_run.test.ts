// train.precision / eval.precision as a run records them, on the synthetic VIS-NIR benchmark: int8 is
// calibrated on the run's training images of both modalities; the training step stays fp32 with the reason
// tagged, the calibration tagged; evaluation runs int8 and tags it. auto with a provider int8 cannot use
// falls back to fp32 with the reason.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRADIENT_GRAPH_FP32 } from '@ssmb/core';
import { launchRun } from '../launch.ts';
import { RunStore } from '../store/run_store.ts';
import { runWorker, silentProgress } from '../worker/worker.ts';
import { TRAIN_CALIBRATION_TAG, TRAIN_PRECISION_REASON_TAG, TRAIN_PRECISION_TAG } from './engine.ts';
import { closeTinyWorkspace, openTinyWorkspace, tinyConfig } from './test_fixtures.ts';

let root: string;
let store: RunStore;
const work = () => runWorker({ store, untilEmpty: true, progress: silentProgress, log: () => {}, handleSignals: false });
beforeAll(async () => ({ root, store } = await openTinyWorkspace()));
afterAll(() => closeTinyWorkspace(store, root));

describe('train.precision int8 on a run', () => {
  it('tags what ran: the step fp32 and why, the calibration over VIS and NIR training images, evaluation int8', async () => {
    const run = launchRun(store, tinyConfig(root, ['steps=2', 'evalEvery=0', 'train.engine=onnxruntime', 'train.threads=1', 'train.provider=cpu',
      'eval.engine=onnxruntime', 'train.precision=int8', 'train.lossEvery=1', 'train.lossPairs=2']), { experiment: 'int8' });
    expect((await work()).failed).toEqual([]);
    const tags = store.getTags(run);
    expect(tags[TRAIN_PRECISION_TAG]).toBe('fp32');
    expect(tags[TRAIN_PRECISION_REASON_TAG]).toBe(`train.precision int8: ${GRADIENT_GRAPH_FP32}`);
    expect(tags[TRAIN_CALIBRATION_TAG]).toMatch(/^minmax over \d+ training images \(VIS \d+, NIR \d+\), batch \d+, \d+ layers$/);
    expect(tags['eval.precision']).toBe('int8');
    expect(tags['eval.precision_reason']).toBe('configured');
    expect(tags['eval.calibration']).toMatch(/VIS \d+, NIR \d+/);
  }, 600_000);
});
