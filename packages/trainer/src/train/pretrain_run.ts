// The `pretrain` run kind: the backbone learns VIS identities with an ArcFace (additive angular margin)
// softmax, BN in training mode; writes a weights file (the synthetic benchmark's pre-trained model) and
// evaluates it VIS-VIS on the protocol's gallery/probe lists when it has them.
// Two engines (config train.engine, chosen and tagged like SSMB training): tfjs autodiff, or core's
// onnxruntime pre-training graph (loss, every gradient and the BN batch statistics in one session run);
// both feed the same Adam and update the same running statistics, so a checkpoint written on one engine
// resumes on the other.
import { arcfaceLoss, saveWeights, tf, tfSeed, updateRunningStats } from '@ssmb/core';
import path from 'node:path';
import { checkpointPath, loadCheckpoint, saveCheckpoint } from '../checkpoint/checkpoint.ts';
import { resumeCheckpoint } from '../checkpoint/retention.ts';
import { withEvalEmbedder } from '../eval/embedders.ts';
import { evaluateProtocolFold, recordFoldEvaluation } from '../eval/evaluate_fold.ts';
import type { RunContext, RunOutcome } from '../worker/run_context.ts';
import { Adam } from './adam.ts';
import { loadFoldChecked, loadImages, type ImageSet } from './data.ts';
import { imageAlignment } from './align.ts';
import { runLoop } from './loop.ts';
import { learningRate } from './lr_schedule.ts';
import { buildBackbone, imageSizeOf } from './model.ts';
import { Rng } from './rng.ts';
import { choosePretrainEngine, evalEngineOptions, useEngine, type PretrainEngine } from './engine.ts';
import { loadWeightsInto, readVariables } from './weights.ts';

// Decoupled weight decay on conv/linear weights only (not BN, PReLU or biases), as in insightface.
const DECAYED = /(conv\d*\.weight|downsample\.0\.weight|^fc\.weight|^arcface\.weight)$/;

/** Copies `indices` rows, mirroring each image horizontally when its flip bit is set. */
function gatherFlipped(set: ImageSet, indices: Int32Array, flips: Uint8Array): Float32Array {
  const S = set.size;
  const per = S * S * 3;
  const out = new Float32Array(indices.length * per);
  for (let i = 0; i < indices.length; i++) {
    const src = set.data.subarray(indices[i] * per, (indices[i] + 1) * per);
    if (!flips[i]) {
      out.set(src, i * per);
      continue;
    }
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) for (let c = 0; c < 3; c++) out[i * per + (y * S + x) * 3 + c] = src[(y * S + (S - 1 - x)) * 3 + c];
  }
  return out;
}

export async function runPretraining(ctx: RunContext): Promise<RunOutcome> {
  const { config, run, store } = ctx;
  const p = config.pretrain;
  await useEngine(ctx);
  const backbone = buildBackbone(config, run.initFrom);
  const vars = new Map<string, tf.Variable>();
  let adam: Adam | undefined;
  let engine: PretrainEngine | undefined;
  try {
    const size = imageSizeOf(config, backbone);
    const fold = await loadFoldChecked(p.protocol, config.dataset.root, p.fold, { onMissing: config.dataset.onMissing });
    const samples = fold.train.filter((s) => s.modality === p.modality);
    const subjects = [...new Set(samples.map((s) => s.subject))].sort();
    if (subjects.length < 2) throw new Error(`pretrain: protocol ${p.protocol} fold ${p.fold} has ${subjects.length} ${p.modality} training identities under ${config.dataset.root}; at least 2 are needed`);
    const classOf = new Map(subjects.map((s, i) => [s, i]));
    const labelsAll = Int32Array.from(samples, (s) => classOf.get(s.subject)!);
    const images = await loadImages(samples, size, imageAlignment(config));
    const E = backbone.embeddingSize;
    const head = tf.tidy(() => tf.variable(tf.randomNormal([E, subjects.length], 0, 0.01, 'float32', tfSeed(config.seed + 7)), true)); // [E,K]
    for (const v of backbone.trainableVariables) vars.set([...backbone.params].find(([, x]) => x === v)![0], v);
    vars.set('arcface.weight', head);
    adam = new Adam(vars, { weightDecay: p.weightDecay, decay: (n) => DECAYED.test(n) });
    const all = new Map([...backbone.params, ['arcface.weight', head] as const]);
    const rng = new Rng(config.seed);
    let startStep = 0;
    const last = await resumeCheckpoint(ctx); // also removes temp files of a killed writer
    if (last) {
      const ck = loadCheckpoint(last.path);
      loadWeightsInto(all, last.path, { what: `run ${run.id}'s backbone and ArcFace head` });
      const strip = (prefix: string) => new Map([...ck.tensors].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v.data]));
      adam.load({ t: ck.optimizerT, m: strip('adam.m/'), v: strip('adam.v/') });
      rng.state = ck.rngState;
      startStep = ck.step;
    }
    // after any resume: the graph bakes the backbone's non-trainable values (features.weight) in
    const chosen = await choosePretrainEngine(ctx, backbone, { batch: p.batchSize, numClasses: subjects.length, scale: p.scale, margin: p.margin });
    engine = chosen;
    const names = new Map([...vars].map(([k, v]) => [v.name, k]));
    const schedule = { ...config.optim, lr: p.lr, schedule: p.schedule, warmup: p.warmup };
    const opt = adam;
    const outcome = await runLoop(ctx, `run ${run.id} pretrain`, {
      startStep,
      totalSteps: p.steps,
      imagesPerStep: p.batchSize,
      checkpointEvery: config.checkpointEvery,
      evalEvery: 0,
      step: async (step) => {
        const idx = Int32Array.from({ length: p.batchSize }, () => rng.int(samples.length));
        const flips = Uint8Array.from({ length: p.batchSize }, () => (p.flip && rng.next() < 0.5 ? 1 : 0));
        const x = gatherFlipped(images, idx, flips); // [B,S,S,3]
        const labels = Array.from(idx, (i) => labelsAll[i]);
        const lr = learningRate(schedule, step - 1, p.steps);
        if (chosen.kind === 'onnxruntime') {
          const params = new Map([...vars].map(([k, v]) => [k, v.dataSync() as Float32Array]));
          const out = await chosen.trainer.step({ images: x, labels, params });
          const named: Record<string, tf.Tensor> = {};
          for (const [k, v] of vars) named[k] = tf.tensor(out.grads.get(k)!, v.shape);
          opt.apply(named, lr);
          tf.dispose(Object.values(named));
          updateRunningStats(backbone.params, out.bnStats);
          return { loss: out.loss, lr };
        }
        const { value, grads } = tf.variableGrads(() => {
          const emb = backbone.forward(tf.tensor4d(x, [p.batchSize, size, size, 3]), { training: true }); // [B,E]
          return arcfaceLoss(emb, head as unknown as tf.Tensor2D, labels, { scale: p.scale, margin: p.margin });
        }, [...vars.values()]);
        const named: Record<string, tf.Tensor> = {};
        for (const [n, g] of Object.entries(grads)) named[names.get(n)!] = g;
        opt.apply(named, lr);
        const loss = value.dataSync()[0];
        tf.dispose([value, ...Object.values(grads)]);
        return { loss, lr };
      },
      checkpoint: (step) => {
        const file = checkpointPath(ctx.runDir, step);
        const st = opt.state();
        const tensors = readVariables(all, 'model/');
        for (const [k, v] of vars) {
          tensors.set(`adam.m/${k}`, { data: st.m.get(k)!, shape: v.shape });
          tensors.set(`adam.v/${k}`, { data: st.v.get(k)!, shape: v.shape });
        }
        saveCheckpoint(file, { kind: 'pretrain', step, rngState: rng.state, optimizerT: st.t, config, runId: run.id, tensors });
        return file;
      },
    });
    // the session's memory is not needed by the evaluation below
    if (engine.kind === 'onnxruntime') await engine.trainer.release();
    engine = undefined;
    if (outcome === 'stopped') return outcome;
    const output = path.resolve(p.output ?? path.join(ctx.runDir, 'backbone.safetensors'));
    saveWeights(backbone, output, { run_id: String(run.id), identities: String(subjects.length), steps: String(p.steps) });
    await store.addArtifact(run.id, 'weights', output);
    if (fold.gallery.length > 0 && fold.probe.length > 0) {
      const fo = { protocol: p.protocol, fold: p.fold, root: config.dataset.root, size, batchSize: config.eval.batchSize, onMissing: config.dataset.onMissing, roles: ['train', 'gallery', 'probe'] as const };
      await recordFoldEvaluation(store, run.id, await withEvalEmbedder(backbone, config.eval.engine, (e) => evaluateProtocolFold(e, fo), evalEngineOptions(ctx)));
    }
    return 'completed';
  } finally {
    if (engine?.kind === 'onnxruntime') await engine.trainer.release();
    adam?.dispose();
    vars.get('arcface.weight')?.dispose();
    backbone.dispose();
  }
}
