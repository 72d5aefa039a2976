// The `train` run kind: SSMB training on one protocol fold, checkpointed and resumable, then evaluated.
import { createEngineEmbedder, engineModelOf, OrtSsmbTrainer, saveWeights, type HFRModel } from '@ssmb/core';
import path from 'node:path';
import { ConfigError, type Config } from '../config.ts';
import { checkpointPath, loadCheckpoint, saveCheckpoint } from '../checkpoint/checkpoint.ts';
import { resumeCheckpoint } from '../checkpoint/retention.ts';
import { evaluateProtocolFold, EVAL_ENGINE_TAG, evalPrecisionTags, recordFoldEvaluation } from '../eval/evaluate_fold.ts';
import { withEvalEmbedder } from '../eval/embedders.ts';
import { checkIdentityOverlap, evalProtocolsOf } from '../eval/eval_protocols.ts';
import { chooseTrainEngine, evalEngineOptions, useEngine, type TrainEngine } from './engine.ts';
import { runPrecision } from './calibration.ts';
import type { PrecisionOptions } from '@ssmb/core';
import type { RunContext, RunOutcome } from '../worker/run_context.ts';
import { Adam } from './adam.ts';
import { loadFoldChecked, loadImages, type ImageSet } from './data.ts';
import { imageAlignment } from './align.ts';
import { runLoop } from './loop.ts';
import { learningRate } from './lr_schedule.ts';
import { buildHfr, imageSizeOf, ssmbParams } from './model.ts';
import { PairSampler, type PairBatch } from './pair_sampler.ts';
import { getMethod, labelUseText, listMethods, METHOD_LABEL_TAG, methodLossWeights } from '../methods/index.ts';
import { ortSsmbLoss, ortSsmbStep, ssmbLoss, ssmbStep } from './ssmb_step.ts';
import { fixedLossPairs } from './fixed_loss.ts';
import type { LoopHooks } from './loop.ts';
import { TeacherCache } from './teacher_cache.ts';
import { loadWeightsInto, readVariables } from './weights.ts';
import { evalStepKey } from '../metric_keys.ts';

export async function runTraining(ctx: RunContext): Promise<RunOutcome> {
  const { config, run, store } = ctx;
  const method = getMethod(config.method, 'config key `method`');
  if (!method.trains) throw new ConfigError(`config key \`method\`: a train run needs a method that trains (${listMethods().filter((m) => getMethod(m).trains).join(', ')}), got ${config.method} (its runs are kind evaluate)`);
  if (config.dataset.fold === 'all') throw new ConfigError('config key `dataset.fold`: a training run needs one fold, got all');
  const loss = methodLossWeights(method, config.loss);
  const selection = method.selection?.(config);
  await useEngine(ctx);
  await store.setTag(run.id, METHOD_LABEL_TAG, labelUseText(method));
  const model = buildHfr(config, run.initFrom);
  const evalProtocols = evalProtocolsOf(config);
  let engine: TrainEngine | undefined;
  let lossSession: OrtSsmbTrainer | undefined;
  try {
    const size = imageSizeOf(config, model.backbone);
    // before any training: a model must not be evaluated on identities it trains on
    for (const p of evalProtocols) await checkIdentityOverlap(config, p, config.dataset.fold);
    const fold = await loadFoldChecked(config.dataset.protocol, config.dataset.root, config.dataset.fold, { onMissing: config.dataset.onMissing, roles: ['train'] });
    const images = await loadImages(fold.train, size, imageAlignment(config));
    const sampler = new PairSampler(fold.train, config.seed);
    // label-selected blocks: each pair image's selection row from its modality (anchors, then partners)
    const selectOf = (batch: PairBatch) => selection?.rows([...batch.anchors, ...batch.partners].map((i) => fold.train[i].modality), `${config.dataset.protocol} fold ${config.dataset.fold} training pairs`);
    const vars = ssmbParams(model);
    const adam = new Adam(vars);
    let startStep = 0;
    const last = await resumeCheckpoint(ctx); // also removes temp files of a killed writer
    if (last) {
      const ck = loadCheckpoint(last.path);
      loadWeightsInto(vars, last.path, { what: `run ${run.id}'s SSMB blocks` });
      adam.load({ t: ck.optimizerT, m: pick(ck.tensors, 'adam.m/'), v: pick(ck.tensors, 'adam.v/') });
      sampler.rng.state = ck.rngState;
      startStep = ck.step;
    }
    // int8 (train.precision): calibrated once, on the model as it starts (after a resume: as it resumes)
    const precision = config.train.engine === 'tfjs' ? {} : await runPrecision(config, 'train', model, images);
    const trainEngine = await chooseTrainEngine(ctx, model, precision);
    engine = trainEngine;
    // the teacher embeddings and the fixed-pair loss (forward only) at train.precision; the training
    // session itself keeps its gradient graph fp32 (its precision tags say why)
    const used: PrecisionOptions = trainEngine.kind === 'onnxruntime' ? precision : {};
    // After a resume too: the cache is a pure function of the frozen backbone and the images.
    const teacher = trainEngine.kind === 'onnxruntime'
      ? await ortTeacherCache(model, images, sampler.anchorPool, config, used)
      : TeacherCache.build(model, images, sampler.anchorPool, config.eval.batchSize);
    // The fixed-pair loss estimate on the training engine: a forward-only session of its own on onnxruntime
    // (lossPairs pairs, no VJP), tfjs's inference forward otherwise.
    let lossEstimate: LoopHooks['lossEstimate'];
    if (config.train.lossEvery > 0) {
      const fixed = fixedLossPairs(fold.train, config.seed, config.train.lossPairs);
      if (trainEngine.kind === 'onnxruntime') {
        const session = await OrtSsmbTrainer.create(engineModelOf(model), {
          pairs: config.train.lossPairs, loss, threads: config.train.threads, provider: trainEngine.trainer.description.provider, gradients: false,
          warn: (m) => ctx.log(`run ${run.id}: ${m}`), ...used,
        });
        lossSession = session;
        lossEstimate = { every: config.train.lossEvery, estimate: () => ortSsmbLoss(session, vars, images, fixed, teacher, selectOf(fixed)) };
      } else {
        lossEstimate = { every: config.train.lossEvery, estimate: () => ssmbLoss(model, images, fixed, loss, teacher, selectOf(fixed)) };
      }
    }
    const outcome = await runLoop(ctx, `run ${run.id} train`, {
      startStep,
      totalSteps: config.steps,
      imagesPerStep: 2 * config.batchSize,
      checkpointEvery: config.checkpointEvery,
      evalEvery: config.evalEvery,
      lossEstimate,
      step: async (step) => {
        const batch = sampler.next(config.batchSize);
        const lr = learningRate(config.optim, step - 1, config.steps);
        const select = selectOf(batch);
        return trainEngine.kind === 'onnxruntime'
          ? (await ortSsmbStep(trainEngine.trainer, adam, images, batch, lr, teacher, select)).metrics
          : ssmbStep(model, adam, images, batch, loss, lr, teacher, sampler.rng, select).metrics; // router jitter (if on) draws from the sampler's RNG after the batch: its state is in every checkpoint
      },
      checkpoint: (step) => {
        const file = checkpointPath(ctx.runDir, step);
        const st = adam.state();
        const tensors = readVariables(vars, 'model/');
        for (const [k, v] of vars) {
          tensors.set(`adam.m/${k}`, { data: st.m.get(k)!, shape: v.shape });
          tensors.set(`adam.v/${k}`, { data: st.v.get(k)!, shape: v.shape });
        }
        saveCheckpoint(file, { kind: 'train', step, rngState: sampler.rng.state, optimizerT: st.t, config, runId: run.id, tensors });
        return file;
      },
      evaluate: async (step) => {
        const { record, engine: usedEngine, precision: usedPrecision } = await withEvalEmbedder(model, config.eval.engine, (e) => evaluateProtocolFold(e, evalOptions(config, size, null)), { ...evalEngineOptions(ctx), calibrationImages: images });
        await store.setTag(run.id, EVAL_ENGINE_TAG, usedEngine);
        for (const [k, v] of evalPrecisionTags(usedPrecision)) await store.setTag(run.id, k, v);
        await store.logMetrics(run.id, Object.entries(record.metrics).map(([k, v]) => ({ key: evalStepKey(k), value: v.value, step })));
      },
    });
    adam.dispose();
    if (lossSession) await lossSession.release();
    lossSession = undefined;
    if (outcome === 'stopped') return outcome;
    const scoreDir = config.eval.scoreFiles ? path.join(ctx.runDir, 'scores') : null;
    if (trainEngine.kind === 'onnxruntime') await trainEngine.trainer.release(); // its memory, before evaluation builds its own session
    engine = undefined;
    // skipped training entries and training images with several faces counted too
    const trained = { ...evalOptions(config, size, scoreDir), roles: ['train', 'gallery', 'probe'] as const, trainAlign: images.stats };
    await withEvalEmbedder(model, config.eval.engine, async (e) => {
      // each evaluation protocol on the training fold's id; the training protocol's also counts its training images
      for (const p of evalProtocols) {
        const opts = p === config.dataset.protocol ? trained : evalOptions(config, size, scoreDir, config.dataset.fold, p);
        await recordFoldEvaluation(store, run.id, await evaluateProtocolFold(e, opts));
      }
    }, { ...evalEngineOptions(ctx), calibrationImages: images });
    const weights = path.join(ctx.runDir, 'model.safetensors');
    saveWeights(model, weights, { run_id: String(run.id), config: JSON.stringify(config) });
    await store.addArtifact(run.id, 'weights', weights);
    return 'completed';
  } finally {
    if (lossSession) await lossSession.release();
    if (engine?.kind === 'onnxruntime') await engine.trainer.release();
    model.dispose();
  }
}

/** T(v) of the anchors from core's backbone graph on onnxruntime (the run's threads and provider). */
async function ortTeacherCache(model: HFRModel, images: ImageSet, anchors: ArrayLike<number>, config: Config, precision: PrecisionOptions): Promise<TeacherCache> {
  const embedder = await createEngineEmbedder({ backbone: model.backbone }, { threads: config.train.threads, provider: config.train.provider, ...precision, precisionKey: 'train.precision' });
  try {
    return await TeacherCache.buildWith((x) => embedder.embed(x), embedder.embeddingSize, images, anchors, config.eval.batchSize);
  } finally {
    await embedder.dispose();
  }
}

export function evalOptions(config: Config, size: number, scoreDir: string | null, fold = config.dataset.fold, protocol = config.dataset.protocol) {
  return { protocol, fold, root: config.dataset.root, size, batchSize: config.eval.batchSize, scoreDir, onMissing: config.dataset.onMissing, align: imageAlignment(config) };
}

function pick<T>(m: Map<string, { data: Float32Array }>, prefix: string): Map<string, Float32Array> {
  return new Map([...m].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v.data]));
}
