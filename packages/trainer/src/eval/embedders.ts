// Evaluation engines behind core's Embedder interface: `tfjs` runs our model (the run's tf backend);
// `onnxruntime` runs core's engine graph of the model on onnxruntime-node (built in memory, the run's
// train.threads / train.provider); `auto` = onnxruntime when it loads, else tfjs (the reason is returned
// for the caller to log). Routing comes from the engine that embeds: tfjs from HFRModel.forward,
// onnxruntime from the graph's `routing_<tap>` outputs (the expert each block chose).
import { chooseEngine, createEngineEmbedder, createTfjsEmbedder, engineModelOf, HFRModel, tf, type Backbone, type Embedder, type PrecisionDescription } from '@ssmb/core';
import { runPrecision } from '../train/calibration.ts';
import type { ImageSet } from '../train/data.ts';

import type { Config } from '../config.ts';
import type { LabelSelection } from '../methods/index.ts';

export type EvalEngine = Config['eval']['engine'];

export interface RoutedEmbeddings {
  embedding: Float32Array; // [B,E]
  /** block (tap) -> expert chosen per image [B], in network order; empty for a plain backbone */
  experts: Map<string, Int32Array>;
}

/** core's Embedder plus the routing decisions of the same forward pass. */
export interface EvalEmbedder extends Embedder {
  /** what the store records: 'onnxruntime' or 'tfjs-<tf backend>' */
  readonly label: string;
  /** x: NHWC [B,S,S,3] scaled (v - 127.5) / 127.5; `modalities`: the B images' modality labels, which a
   *  label-selected model needs (its method's selection turns them into the blocks' rows) */
  embedRouted(x: Float32Array, modalities?: readonly string[]): Promise<RoutedEmbeddings>;
  /** onnxruntime: the frozen network's precision (tags eval.precision, eval.precision_reason, eval.calibration) */
  readonly precision?: PrecisionDescription;
}

/** The selection rows of a label-selected model for B images, checked; undefined for any other model. */
function selectRows(selection: LabelSelection | undefined, modalities: readonly string[] | undefined, B: number): Float32Array | undefined {
  if (!selection) return undefined;
  if (!modalities || modalities.length !== B) {
    throw new Error(`evaluation: this model chooses its blocks' experts by each image's modality label (it was built for ${selection.modalities.join(', ')}); the embedder got ${modalities ? `${modalities.length} labels` : 'no labels'} for ${B} images`);
  }
  return selection.rows(modalities, 'evaluated images');
}

/** The selection an embedder of `model` uses: the method's for a label-selected model (which needs one),
 *  none for any other (a backbone, a routed model), whatever the caller passed. */
function selectionFor(model: HFRModel | Backbone, selection: LabelSelection | undefined): LabelSelection | undefined {
  if (!(model instanceof HFRModel) || model.config.selection !== 'label') return undefined;
  if (!selection) throw new Error(`evaluation: this model's blocks choose their expert by each image's modality label; its method's selection (modalities -> rows) is needed`);
  return selection;
}

/** A label-selected model's embedder has no plain embed (it needs each image's modality). */
function labelOnlyEmbed(selection: LabelSelection | undefined, embed: (x: Float32Array) => Promise<Float32Array>): (x: Float32Array) => Promise<Float32Array> {
  if (!selection) return embed;
  return () => Promise.reject(new Error(`evaluation: this model chooses its blocks' experts by each image's modality label (${selection.modalities.join(', ')}); call embedRouted with the images' modalities`));
}

function backboneOf(model: HFRModel | Backbone): Backbone {
  return model instanceof HFRModel ? model.backbone : model;
}

export function tfjsEvalEmbedder(model: HFRModel | Backbone, given?: LabelSelection): EvalEmbedder {
  const selection = selectionFor(model, given);
  const backbone = backboneOf(model);
  backbone.setFrozen(true);
  const size = backbone.input.size;
  const base = createTfjsEmbedder({
    inputSize: size,
    embeddingSize: backbone.embeddingSize,
    forward: (x) => (model instanceof HFRModel ? model.forward(x).embedding : model.forward(x)), // [B,E]; inside core's tidy
  });
  const routed = async (x: Float32Array, modalities?: readonly string[]): Promise<RoutedEmbeddings> => {
    if (!(model instanceof HFRModel)) return { embedding: await base.embed(x), experts: new Map() };
    const per = size * size * 3;
    if (x.length === 0 || x.length % per !== 0) throw new Error(`tfjs embedder: input has ${x.length} values; expected B*${size}*${size}*3 (NHWC)`);
    const B = x.length / per;
    const rows = selectRows(selection, modalities, B);
    let taps: string[] = [];
    const [e, ...ks] = tf.tidy(() => {
      const select = rows ? tf.tensor2d(rows, [B, rows.length / B]) : undefined; // [B,N]
      const out = model.forward(tf.tensor4d(x, [B, size, size, 3]), { select }); // [B,S,S,3] -> [B,E]
      taps = out.routings.map((r) => r.tap);
      return [out.embedding, ...out.routings.map((r) => r.expert)] as tf.Tensor[]; // [B,E], [B] per block
    });
    try {
      const embedding = (await e.data()) as Float32Array;
      const experts = new Map<string, Int32Array>();
      for (let j = 0; j < ks.length; j++) experts.set(taps[j], Int32Array.from(await ks[j].data()));
      return { embedding, experts };
    } finally {
      tf.dispose([e, ...ks]);
    }
  };
  return { ...base, embed: labelOnlyEmbed(selection, base.embed), label: `tfjs-${base.engine}`, embedRouted: routed };
}

export interface EvalEngineOptions {
  /** onnxruntime intra-op threads (0 = all cores) and execution provider (config train.threads / eval.provider) */
  threads?: number;
  provider?: string;
  /** the config key the provider came from (named in its errors) */
  providerKey?: string;
  /** called with the reason when `auto` falls back to tfjs */
  onFallback?: (reason: string) => void;
  /** warnings (a provider chosen by auto, nodes that fell back to the CPU) */
  warn?: (message: string) => void;
  /** a label-selected model's method selection (images' modalities -> the blocks' rows) */
  selection?: LabelSelection;
  /** the config (eval.precision, train.precision) and the run's training images, calibrated on the model
   *  being evaluated when the precision is not fp32; no images: int8 is refused, auto falls back */
  config?: Config;
  calibrationImages?: ImageSet | null;
}

/** core's engine embedding graph of the model (BN folded), on onnxruntime. */
export async function onnxEvalEmbedder(model: HFRModel | Backbone, opts: EvalEngineOptions = {}): Promise<EvalEmbedder> {
  const selection = selectionFor(model, opts.selection); // before the session: a missing selection leaks nothing
  const precision = opts.config ? await runPrecision(opts.config, 'eval', model, opts.calibrationImages ?? null) : {};
  const e = await createEngineEmbedder(model instanceof HFRModel ? engineModelOf(model) : { backbone: model }, { threads: opts.threads, provider: opts.provider, providerKey: opts.providerKey, warn: opts.warn, ...precision });
  if (e.providerReason !== 'configured') opts.warn?.(`${opts.providerKey ?? 'train.provider'} ${opts.provider}: onnxruntime on ${e.provider}; ${e.providerReason}`);
  if (e.precision.reason !== 'configured') opts.warn?.(`${precision.precisionKey} ${precision.precision}: ${e.precision.precision}; ${e.precision.reason}`);
  // the tag eval.engine: 'onnxruntime' on the CPU provider, 'onnxruntime-<provider>' on another
  return {
    ...e, embed: labelOnlyEmbed(selection, e.embed), label: e.provider === 'cpu' ? e.engine : `${e.engine}-${e.provider}`,
    embedRouted: (x, modalities) => e.embedRouted(x, selectRows(selection, modalities, x.length / (e.inputSize * e.inputSize * 3))),
    precision: e.precision,
  };
}

export async function createEvalEmbedder(model: HFRModel | Backbone, engine: EvalEngine, opts: EvalEngineOptions = {}): Promise<EvalEmbedder> {
  const chosen = await chooseEngine(engine, () => onnxEvalEmbedder(model, opts));
  if (chosen.engine === 'onnxruntime') return chosen.value;
  if (engine === 'auto') opts.onFallback?.(chosen.reason);
  return tfjsEvalEmbedder(model, opts.selection);
}

/** Runs `fn` with an embedder of the model's current weights and disposes it after. */
export async function withEvalEmbedder<T>(model: HFRModel | Backbone, engine: EvalEngine, fn: (e: EvalEmbedder) => Promise<T>, opts: EvalEngineOptions = {}): Promise<T> {
  const e = await createEvalEmbedder(model, engine, opts);
  try {
    return await fn(e);
  } finally {
    await e.dispose();
  }
}
