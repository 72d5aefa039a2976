// A real pre-trained backbone through the whole trainer: SSMB training on dlib-resnet29 (its face-api
// weights, imported) on a tiny synthetic dataset, evaluated with onnxruntime (the exported graph routes),
// then the run's model exported and verified like `ssmb export-onnx --verify`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { checkOnnxExport, exportHfrModelToOnnx, importPretrained, initBackend, randomImagesNHWC, saveWeights } from '@ssmb/core';
import { launchRun } from '../launch.ts';
import { RunStore } from '../store/run_store.ts';
import { runWorker, silentProgress } from '../worker/worker.ts';
import { loadRunModel } from './run_model.ts';
import { tinyConfig, tinyDataset } from './test_fixtures.ts';

let root: string;
let store: RunStore;
let weights: string;
beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
  root = await tinyDataset();
  store = RunStore.open(path.join(path.dirname(root), 'runs.sqlite'));
  const imp = importPretrained('dlib-resnet29');
  weights = path.join(path.dirname(root), 'dlib-resnet29.safetensors');
  saveWeights(imp.model, weights, imp.metadata);
  imp.model.dispose();
});
afterAll(() => {
  store.close();
  rmSync(path.dirname(root), { recursive: true, force: true });
});

describe('SSMB on a pre-trained npm backbone, end to end', () => {
  it('dlib-resnet29: trains, evaluates with onnxruntime (routing recorded), exports and verifies', async () => {
    const config = tinyConfig(root, ['backbone.model=dlib-resnet29', `backbone.weights=${weights}`, 'ssmb.positions=[layer1,layer2]',
      'steps=2', 'batchSize=4', 'checkpointEvery=2', 'eval.engine=onnxruntime', 'eval.batchSize=8']);
    const id = launchRun(store, config, { experiment: 'dlib' });
    const s = await runWorker({ store, untilEmpty: true, progress: silentProgress, log: () => {}, handleSignals: false });
    expect(s.failed).toEqual([]);
    expect(store.getRun(id)).toMatchObject({ status: 'completed', step: 2 });
    expect(store.getMetricHistory(id, 'loss')).toHaveLength(2);
    expect(store.getEvalMetrics(id).map((m) => m.metric)).toContain('rank1');
    expect([...new Set(store.getRouting(id).map((r) => r.block))].sort()).toEqual(['layer1', 'layer2']);
    const loaded = loadRunModel(store, id);
    expect(loaded.kind).toBe('hfr');
    if (loaded.kind !== 'hfr') return;
    expect(loaded.model.backbone.family).toBe('dlib-resnet29');
    const file = path.join(path.dirname(root), 'dlib-ssmb.onnx');
    exportHfrModelToOnnx(loaded.model, file);
    const c = await checkOnnxExport(loaded.model, file, randomImagesNHWC(2, 150, 3));
    expect(c.passed).toBe(true);
    loaded.model.dispose();
  }, 300_000);
});
