// The two evaluation engines on the same small trained run: same Rank-1/EER (float tolerance) and the
// same routing table; the engine is recorded with the evaluation; no tensors leak.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HFRModel, tf } from '@ssmb/core';
import { launchRun } from '../launch.ts';
import { RunStore } from '../store/run_store.ts';
import { runWorker, silentProgress } from '../worker/worker.ts';
import { loadRunModel } from '../train/run_model.ts';
import { evalOptions } from '../train/train_run.ts';
import { tinyConfig, closeTinyWorkspace, openTinyWorkspace } from '../train/test_fixtures.ts';
import { loadFoldChecked, loadImages } from '../train/data.ts';
import type { Config } from '../config.ts';
import { tfjsEvalEmbedder, withEvalEmbedder } from './embedders.ts';
import { EVAL_ENGINE_TAG, evaluateProtocolFold } from './evaluate_fold.ts';

let root: string;
let store: RunStore;
const work = () => runWorker({ store, untilEmpty: true, progress: silentProgress, log: () => {}, handleSignals: false });
const sorted = <T extends { block: string; modality: string; expert: number }>(rows: T[]) =>
  rows.map(({ block, modality, expert, count }: T & { count?: number }) => ({ block, modality, expert, count })).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));

beforeAll(async () => ({ root, store } = await openTinyWorkspace()));
afterAll(() => closeTinyWorkspace(store, root));

async function centreRouter(model: HFRModel, tap: string, config: Config): Promise<void> {
  const fold = await loadFoldChecked(config.dataset.protocol, config.dataset.root, config.dataset.fold);
  const probes = await loadImages(fold.probe, 32);
  tf.tidy(() => {
    const out = model.forward(tf.tensor4d(probes.data, [fold.probe.length, 32, 32, 3])); // [B,S,S,3]
    const probs = out.routings.find((r) => r.tap === tap)!.probs; // [B,N]
    const bias = model.params.get(`ssmb.${tap}.router.bias`)!;
    bias.assign(tf.sub(bias, tf.mean(tf.log(tf.add(probs, 1e-12)), 0))); // [N]
  });
}

describe('evaluation engines (tfjs vs onnxruntime)', () => {
  it('give the same Rank-1, EER and routing table on a trained run, and the engine is recorded', async () => {
    // a few SSMB steps so the blocks hold trained (not initial) weights; its final evaluation uses tfjs
    const trained = launchRun(store, tinyConfig(root, ['steps=4', 'checkpointEvery=4', 'ssmb.numExperts=3', 'eval.engine=tfjs']), { experiment: 'engines' });
    expect((await work()).failed).toEqual([]);
    expect(store.getTags(trained)[EVAL_ENGINE_TAG]).toBe('tfjs-wasm');
    expect(store.getTags(trained)['train.engine']).toBe('onnxruntime'); // train.engine auto

    const { model, config, checkpoint, kind } = loadRunModel(store, trained);
    expect(kind).toBe('hfr');
    expect(checkpoint!.step).toBe(4);
    // a few steps leave every probe on one expert; centre the stem router on the probes (subtract the mean
    // log-probability per expert from its bias) so that probes split between experts
    await centreRouter(model as HFRModel, 'stem', config);
    await tfjsEvalEmbedder(model).embedRouted(new Float32Array(32 * 32 * 3)); // builds the frozen backbone's folded-weight cache
    const before = tf.memory().numTensors;
    const o = evalOptions(config, 32, null);
    const viaTfjs = await withEvalEmbedder(model as HFRModel, 'tfjs', (e) => evaluateProtocolFold(e, o));
    expect(tf.memory().numTensors).toBe(before);
    const viaOrt = await withEvalEmbedder(model as HFRModel, 'onnxruntime', (e) => evaluateProtocolFold(e, o));
    model.dispose();
    expect(viaTfjs.engine).toBe('tfjs-wasm');
    expect(viaOrt.engine).toBe('onnxruntime');
    for (const m of ['rank1', 'eer', 'auc']) expect(viaOrt.record.metrics[m].value).toBeCloseTo(viaTfjs.record.metrics[m].value, 5);
    expect(viaOrt.record.metrics.rank1.count).toBe(viaTfjs.record.metrics.rank1.count);
    const routing = viaTfjs.record.routing!;
    expect(new Set(routing.map((r) => r.block))).toEqual(new Set(['stem', 'layer1']));
    expect(new Set(routing.map((r) => `${r.block}/${r.expert}`)).size).toBeGreaterThan(2); // some block uses several experts
    expect(viaOrt.record.routing).toEqual(routing);
    // The run's stored evaluation: every comparison in its score histograms, and its embedding sample (the
    // tiny fold has under 500 images: all of them, with their role, identity and modality).
    const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
    const [h] = store.getScoreHistograms(trained);
    const metric = (m: string) => store.getEvalMetrics(trained).find((e) => e.protocol === h.protocol && e.fold === h.fold && e.metric === m)!.value;
    expect(sum(h.genuine) + h.outside.genuine).toBe(metric('genuine'));
    expect(sum(h.impostor) + h.outside.impostor).toBe(metric('impostor'));
    const [info] = store.listEmbeddingSamples(trained);
    expect(info.total.gallery + info.total.probe).toBeLessThanOrEqual(500);
    expect(info.sampled).toEqual({ gallery: info.total.gallery, probe: info.total.probe, subjects: info.total.subjects });
    const sample = store.getEmbeddingSample(trained, info.protocol, info.fold)!;
    expect(sample.vectors).toHaveLength(sample.points.length * sample.dim);
    expect(new Set(sample.points.map((p) => p.modality)).size).toBeGreaterThan(1);
  });

  it('an evaluate run with eval.engine=onnxruntime records its engine and matches the tfjs evaluation', async () => {
    const trained = store.listRuns({ kind: 'train' })[0].id;
    const ck = store.latestCheckpoint(trained)!.path;
    const sets = ['steps=4', 'ssmb.numExperts=3'];
    const viaOrt = launchRun(store, tinyConfig(root, [...sets, 'eval.engine=onnxruntime']), { experiment: 'engines', kind: 'evaluate', initFrom: ck });
    const viaTfjs = launchRun(store, tinyConfig(root, [...sets, 'eval.engine=tfjs']), { experiment: 'engines', kind: 'evaluate', initFrom: ck });
    expect((await work()).failed).toEqual([]);
    expect(store.getTags(viaOrt)[EVAL_ENGINE_TAG]).toBe('onnxruntime');
    expect(store.getTags(viaTfjs)[EVAL_ENGINE_TAG]).toBe('tfjs-wasm');
    const metrics = (id: number) => Object.fromEntries(store.getEvalMetrics(id).map((m) => [m.metric, m.value]));
    const a = metrics(viaOrt);
    const b = metrics(viaTfjs);
    for (const m of ['rank1', 'eer']) expect(a[m]).toBeCloseTo(b[m], 5);
    expect(sorted(store.getRouting(viaOrt))).toEqual(sorted(store.getRouting(viaTfjs)));
    expect(store.getRouting(viaOrt).length).toBeGreaterThan(0);
  });

  it('the tfjs engine checks its input and embeds a plain backbone without routing', async () => {
    const { model } = loadRunModel(store, store.listRuns({ kind: 'train' })[0].id, { backboneOnly: true });
    const e = tfjsEvalEmbedder(model as never);
    await expect(e.embedRouted(new Float32Array(7))).rejects.toThrow(/7 values; expected B\*32\*32\*3/);
    const r = await e.embedRouted(new Float32Array(2 * 32 * 32 * 3).fill(0.1));
    expect(r.embedding.length).toBe(2 * e.embeddingSize);
    expect(r.experts.size).toBe(0);
    model.dispose();
  });
});
