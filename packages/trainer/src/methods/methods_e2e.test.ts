// The label-aware methods as runs on the tiny synthetic benchmark (VIS-NIR fold 1): ssmb-oracle and caim
// train on both engines to the same per-step losses, evaluate with each image's modality label, and
// record their label use; caim leaves VIS images exactly as the frozen network embeds them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf, type HFRModel } from '@ssmb/core';
import { launchRun } from '../launch.ts';
import { RunStore } from '../store/run_store.ts';
import { runWorker, silentProgress } from '../worker/worker.ts';
import { loadRunModel } from '../train/run_model.ts';
import { tfjsEvalEmbedder } from '../eval/embedders.ts';
import { loadFoldChecked, loadImages } from '../train/data.ts';
import { TRAIN_METRICS } from '../metric_keys.ts';
import { tinyConfig, closeTinyWorkspace, openTinyWorkspace } from '../train/test_fixtures.ts';
import { getMethod, METHOD_LABEL_TAG } from './index.ts';

let root: string;
let store: RunStore;
const work = () => runWorker({ store, untilEmpty: true, progress: silentProgress, log: () => {}, handleSignals: false });
const STEPS = 12;
// tinyConfig sets ssmb.numExperts 2, a key of ssmb only: back to its default for the label methods
const SETS = [`steps=${STEPS}`, 'checkpointEvery=12', 'ssmb.numExperts=4', 'eval.engine=tfjs', 'train.threads=1'];

beforeAll(async () => ({ root, store } = await openTinyWorkspace()));
afterAll(() => closeTinyWorkspace(store, root));

const losses = (run: number) => store.getMetricHistory(run, TRAIN_METRICS.loss).map((p) => p.value);

describe('label-aware methods as runs', () => {
  for (const method of ['ssmb-oracle', 'caim']) {
    it(`${method}: tfjs and onnxruntime train to the same losses; evaluation reads the labels; label use recorded`, async () => {
      const viaTfjs = launchRun(store, tinyConfig(root, [...SETS, `method=${method}`, 'train.engine=tfjs']), { experiment: method });
      const viaOrt = launchRun(store, tinyConfig(root, [...SETS, `method=${method}`, 'train.engine=onnxruntime']), { experiment: method });
      const s = await work();
      expect(s.failed).toEqual([]);
      for (const id of [viaTfjs, viaOrt]) {
        expect(store.getRun(id)).toMatchObject({ status: 'completed', method, step: STEPS });
        expect(store.getTags(id)[METHOD_LABEL_TAG]).toBe('training+inference');
        expect(store.getEvalMetrics(id).map((m) => m.metric)).toContain('rank1');
      }
      const [a, b] = [losses(viaTfjs), losses(viaOrt)];
      expect(a).toHaveLength(STEPS);
      a.forEach((v, i) => expect(Math.abs(b[i] - v) / Math.abs(v), `loss at step ${i + 1}: tfjs ${v}, onnxruntime ${b[i]}`).toBeLessThanOrEqual(1e-3));
      // no load-balancing term: the label decides, nothing to balance
      expect(store.getMetricHistory(viaOrt, TRAIN_METRICS.loss).length).toBe(STEPS);
      const routing = store.getRouting(viaOrt).filter((r) => r.block === 'stem');
      if (method === 'ssmb-oracle') {
        // one expert per modality, by label: VIS images to expert 0, NIR to expert 1, nothing else
        expect(routing.map((r) => [r.modality, r.expert])).toEqual([['NIR', 1], ['VIS', 0]]);
      } else {
        expect(routing.every((r) => r.expert === 0)).toBe(true);
      }
    });
  }

  it('caim leaves VIS images exactly as the frozen network embeds them, and changes the NIR ones', async () => {
    const run = store.listRuns({}).find((r) => r.method === 'caim')!;
    const loaded = loadRunModel(store, run.id);
    expect(loaded.kind).toBe('hfr');
    const fold = await loadFoldChecked('synthetic-vis-nir', root, '1', { roles: ['gallery', 'probe'] });
    const samples = [...fold.gallery.slice(0, 2), ...fold.probe.slice(0, 2)];
    const set = await loadImages(samples, 32);
    const embedder = tfjsEvalEmbedder(loaded.model, getMethod('caim').selection!(loaded.config));
    try {
      const { embedding } = await embedder.embedRouted(set.data, samples.map((s) => s.modality));
      const teacher = tf.tidy(() => (loaded.model as HFRModel).teacherForward(tf.tensor4d(set.data, [4, 32, 32, 3])).dataSync());
      const E = embedding.length / 4;
      const row = (a: ArrayLike<number>, i: number) => Array.from(a).slice(i * E, (i + 1) * E);
      expect(samples.map((s) => s.modality)).toEqual(['VIS', 'VIS', 'NIR', 'NIR']);
      expect(row(embedding, 0)).toEqual(row(teacher, 0));
      expect(row(embedding, 1)).toEqual(row(teacher, 1));
      expect(row(embedding, 2)).not.toEqual(row(teacher, 2));
      await expect(embedder.embed(set.data)).rejects.toThrow("chooses its blocks' experts by each image's modality label");
      await expect(embedder.embedRouted(set.data)).rejects.toThrow('the embedder got no labels for 4 images');
    } finally {
      await embedder.dispose();
      loaded.model.dispose();
    }
  });
});
