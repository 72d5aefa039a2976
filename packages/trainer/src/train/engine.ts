// The engines a run uses, chosen once and recorded:
// - the tf backend (core's initBackend; SSMB_BACKEND env wins; on wasm it installs core's kernels, incl. a
//   correct OneHot): runs.engine;
// - the training engine for SSMB steps and teacher embeddings, and for backbone pre-training (config train.engine: auto | tfjs |
//   onnxruntime; auto = onnxruntime when it loads and can express the model, else tfjs with the reason
//   logged): run tags train.engine ('onnxruntime' or 'tfjs-<backend>'), train.provider (auto resolved),
//   train.provider_reason, train.threads, train.engine_fallback; the precision of its frozen network
//   (config train.precision): train.precision (fp32 or int8), train.precision_reason, train.calibration;
// - the evaluation engine (config eval.engine, same choice): tag eval.engine, set by the evaluation itself.
import { chooseEngine, describeCalibration, engineModelOf, type PrecisionDescription, type PrecisionOptions, initBackend, OrtPretrainer, OrtSsmbTrainer, tf, type Backbone, type Chosen, type EngineName, type HFRModel, type OrtPretrainerOptions } from '@ssmb/core';
import type { Config } from '../config.ts';
import { getMethod, methodLossWeights } from '../methods/index.ts';
import type { RunContext } from '../worker/run_context.ts';
import type { EvalEngineOptions } from '../eval/embedders.ts';

export const TRAIN_ENGINE_TAG = 'train.engine';
export const TRAIN_PROVIDER_TAG = 'train.provider';
export const TRAIN_THREADS_TAG = 'train.threads';
export const TRAIN_FALLBACK_TAG = 'train.engine_fallback';
/** why onnxruntime runs on its provider: auto's decision (which GPU, or why cpu), or 'configured' */
export const TRAIN_PROVIDER_REASON_TAG = 'train.provider_reason';
/** the frozen network's precision in training (fp32 / int8), why (auto's fallback, or 'configured'), and
 *  the int8 calibration (images per modality, method) */
export const TRAIN_PRECISION_TAG = 'train.precision';
export const TRAIN_PRECISION_REASON_TAG = 'train.precision_reason';
export const TRAIN_CALIBRATION_TAG = 'train.calibration';

export async function useEngine(ctx: RunContext): Promise<EngineName> {
  const engine = await initBackend(ctx.config.engine === 'auto' ? {} : { prefer: ctx.config.engine });
  await ctx.store.setRunEnvironment(ctx.run.id, { engine });
  return engine;
}

/** A warning line in the worker's log (the run's log file when a worker process runs it). */
function warn(ctx: RunContext, message: string): void {
  ctx.log(`run ${ctx.run.id}: ${message}`);
}

export type TrainEngine = { kind: 'onnxruntime'; trainer: OrtSsmbTrainer; label: string } | { kind: 'tfjs'; label: string };

/** Value of the provider / threads / fallback tags when they do not apply (the worker's store API has
 *  setTag only, so every tag is always written: a resumed run on another engine overwrites them all). */
export const TAG_NOT_APPLICABLE = 'none';

/** The SSMB training engine of config train.engine, recorded on the run. */
export async function chooseTrainEngine(ctx: RunContext, model: HFRModel, precision: PrecisionOptions = {}): Promise<TrainEngine> {
  const { config } = ctx;
  const chosen = await chooseEngine(config.train.engine, () => OrtSsmbTrainer.create(engineModelOf(model), {
    pairs: config.batchSize, loss: methodLossWeights(getMethod(config.method), config.loss), threads: config.train.threads, provider: config.train.provider, warn: (m) => warn(ctx, m), ...precision,
  }));
  const label = await recordTrainEngine(ctx, chosen);
  await recordPrecision(ctx, chosen.engine === 'onnxruntime' ? chosen.value.precision : null, precision);
  return chosen.engine === 'onnxruntime' ? { kind: 'onnxruntime', trainer: chosen.value, label } : { kind: 'tfjs', label };
}

export type PretrainEngine = { kind: 'onnxruntime'; trainer: OrtPretrainer; label: string } | { kind: 'tfjs'; label: string };

/** The backbone pre-training engine of config train.engine (same choice, tags and fallback as SSMB runs). */
export async function choosePretrainEngine(ctx: RunContext, backbone: Backbone, graph: Omit<OrtPretrainerOptions, 'threads' | 'provider'>): Promise<PretrainEngine> {
  const { config } = ctx;
  const chosen = await chooseEngine(config.train.engine, () => OrtPretrainer.create(backbone, { ...graph, threads: config.train.threads, provider: config.train.provider, warn: (m) => warn(ctx, m) }));
  const label = await recordTrainEngine(ctx, chosen);
  return chosen.engine === 'onnxruntime' ? { kind: 'onnxruntime', trainer: chosen.value, label } : { kind: 'tfjs', label };
}

/** The train.precision tags (null: tfjs, where they do not apply); auto's fallback to fp32 is logged. */
async function recordPrecision(ctx: RunContext, p: PrecisionDescription | null, opts: PrecisionOptions): Promise<void> {
  const { store, run, config } = ctx;
  if (p && p.reason !== 'configured') warn(ctx, `train.precision ${config.train.precision}: ${p.precision}; ${p.reason}`);
  await store.setTag(run.id, TRAIN_PRECISION_TAG, p?.precision ?? TAG_NOT_APPLICABLE);
  await store.setTag(run.id, TRAIN_PRECISION_REASON_TAG, p?.reason ?? TAG_NOT_APPLICABLE);
  // the calibration the run's int8 graphs use (the teacher and loss graphs too, when the step stays fp32)
  const calibration = p && opts.calibration ? describeCalibration(opts.calibration) : null;
  await store.setTag(run.id, TRAIN_CALIBRATION_TAG, calibration ?? TAG_NOT_APPLICABLE);
}

/** Writes the four train.* tags for the chosen engine (logging an auto fallback); returns the engine label. */
async function recordTrainEngine(ctx: RunContext, chosen: Chosen<{ description: { provider: string; providerReason: string; threads: number } }>): Promise<string> {
  const { config, store, run } = ctx;
  const tags = async (engine: string, provider: string, reason: string, threads: string, fallback: string) => {
    await store.setTag(run.id, TRAIN_ENGINE_TAG, engine);
    await store.setTag(run.id, TRAIN_PROVIDER_TAG, provider);
    await store.setTag(run.id, TRAIN_PROVIDER_REASON_TAG, reason);
    await store.setTag(run.id, TRAIN_THREADS_TAG, threads);
    await store.setTag(run.id, TRAIN_FALLBACK_TAG, fallback);
  };
  if (chosen.engine === 'onnxruntime') {
    const d = chosen.value.description;
    if (d.providerReason !== 'configured') warn(ctx, `train.provider ${config.train.provider}: onnxruntime on ${d.provider}; ${d.providerReason}`);
    await tags('onnxruntime', d.provider, d.providerReason, String(d.threads), TAG_NOT_APPLICABLE);
    return 'onnxruntime';
  }
  const label = `tfjs-${tf.getBackend()}`;
  const fellBack = config.train.engine === 'auto';
  if (fellBack) warn(ctx, `train.engine auto: training on ${label}; ${chosen.reason}`);
  await tags(label, TAG_NOT_APPLICABLE, TAG_NOT_APPLICABLE, TAG_NOT_APPLICABLE, fellBack ? chosen.reason : TAG_NOT_APPLICABLE);
  return label;
}

/** What evaluation hands to the embedders: the run's onnxruntime settings and a logged fallback. */
export function evalEngineOptions(ctx: RunContext, config: Config = ctx.config): EvalEngineOptions {
  return {
    threads: config.train.threads,
    provider: config.eval.provider ?? config.train.provider,
    providerKey: config.eval.provider ? 'eval.provider' : 'train.provider',
    onFallback: (reason) => warn(ctx, `eval.engine auto: evaluating on tfjs; ${reason}`),
    warn: (m) => warn(ctx, m),
    selection: getMethod(config.method).selection?.(config),
    config,
  };
}
