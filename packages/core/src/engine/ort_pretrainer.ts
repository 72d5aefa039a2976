// A backbone pre-training step on onnxruntime: one session over the pre-training graph (pretrain_graph.ts)
// takes the images, labels and current parameters (our layout, as the trainer's variables hold them) and
// returns the ArcFace loss, every parameter's gradient (back in our layout) and each BN layer's batch
// statistics. The optimiser and the running statistics stay with the caller (updateRunningStats below
// does the update exactly as tfjs's batchNormTraining), so checkpoints hold the same tensors whichever
// engine trained.
import { BN_MOMENTUM } from '../models/batch_norm.ts';
import type { Backbone } from '../models/backbone.ts';
import { tf } from '../tf.ts';
import { openGraphSession, type EngineDescription, type GraphSessionOptions, type Ort, type OrtSession } from './ort_session.ts';
import {
  bnMeanName, bnVarName, buildPretrainGraph, pretrainGradName, PRETRAIN_IMAGES, PRETRAIN_LABELS,
  type PretrainBn, type PretrainGraphOptions, type PretrainParam,
} from './pretrain_graph.ts';

export interface OrtPretrainerOptions extends PretrainGraphOptions, GraphSessionOptions {}

export interface PretrainStepInput {
  /** NHWC [B,S,S,3] canonical images */
  images: Float32Array;
  /** [B] class indices in [0, numClasses) */
  labels: ArrayLike<number>;
  /** every trainable parameter (backbone + arcface.weight) by name, our layout */
  params: ReadonlyMap<string, Float32Array>;
}

export interface BnBatchStats {
  name: string;
  /** [C] batch mean and biased batch variance; `count` values per channel */
  mean: Float32Array;
  variance: Float32Array;
  count: number;
}

export interface PretrainStepOutput {
  loss: number;
  /** our layout, keyed like the input params */
  grads: Map<string, Float32Array>;
  bnStats: BnBatchStats[];
}

/** The same description as the SSMB trainer's (one session, one graph). */
export type PretrainEngineDescription = EngineDescription;

/** ours -> emitted layout: emitted[i] = ours[perm[i]] */
function toGraph(p: PretrainParam, data: Float32Array): Float32Array {
  if (!p.perm) return data;
  const out = new Float32Array(data.length);
  for (let i = 0; i < out.length; i++) out[i] = data[p.perm[i]];
  return out;
}

/** emitted -> ours layout (the inverse permutation; a gradient is permuted like its parameter) */
function toOurs(p: PretrainParam, data: Float32Array): Float32Array {
  if (!p.perm) return data;
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[p.perm[i]] = data[i];
  return out;
}

export class OrtPretrainer {
  private constructor(
    private readonly ort: Ort,
    private readonly session: OrtSession,
    readonly batch: number,
    readonly imageSize: number,
    readonly numClasses: number,
    readonly params: readonly PretrainParam[],
    readonly bns: readonly PretrainBn[],
    readonly description: PretrainEngineDescription,
    /** the graph takes the labels as float32 (built for webgpu) */
    private readonly labelsFloat: boolean,
  ) {}

  static async create(backbone: Backbone, opts: OrtPretrainerOptions): Promise<OrtPretrainer> {
    const { ort, session, graph: g, description } = await openGraphSession(opts, (provider) => buildPretrainGraph(backbone, { ...opts, provider }), (g) => ({
      what: `backbone pre-training graph (${g.stats.forwardNodes} forward + ${g.stats.gradientNodes} gradient nodes)`,
      nodes: { forward: g.stats.forwardNodes, gradient: g.stats.gradientNodes },
    }));
    return new OrtPretrainer(ort, session, g.batch, g.imageSize, g.numClasses, g.params, g.bns, description, g.labelsFloat);
  }

  /** Checks every input against the graph's shapes, naming the input, what it got and what it expected. */
  private feeds(input: PretrainStepInput): Record<string, InstanceType<Ort['Tensor']>> {
    const B = this.batch, S = this.imageSize;
    const want = B * S * S * 3;
    if (!(input.images instanceof Float32Array) || input.images.length !== want) {
      throw new Error(`onnxruntime pre-training step: images has ${input.images?.length ?? 'no'} values; expected [${B},${S},${S},3] = ${want} float32 values`);
    }
    if (!input.labels || input.labels.length !== B) throw new Error(`onnxruntime pre-training step: labels has ${input.labels?.length ?? 'no'} entries; expected ${B}`);
    for (let i = 0; i < B; i++) {
      const l = input.labels[i];
      if (!Number.isInteger(l) || l < 0 || l >= this.numClasses) throw new Error(`onnxruntime pre-training step: labels[${i}] is ${l}; expected a class index in [0, ${this.numClasses})`);
    }
    const feeds: Record<string, InstanceType<Ort['Tensor']>> = {
      [PRETRAIN_IMAGES]: new this.ort.Tensor('float32', input.images, [B, S, S, 3]),
      [PRETRAIN_LABELS]: this.labelsFloat
        ? new this.ort.Tensor('float32', Float32Array.from(input.labels), [B])
        : new this.ort.Tensor('int64', BigInt64Array.from(Array.from(input.labels, BigInt)), [B]),
    };
    const known = new Set(this.params.map((p) => p.name));
    const unknown = [...input.params.keys()].filter((k) => !known.has(k));
    if (unknown.length) throw new Error(`onnxruntime pre-training step: unknown parameter(s) ${unknown.join(', ')}; the graph trains ${[...known].join(', ')}`);
    for (const p of this.params) {
      const data = input.params.get(p.name);
      const n = p.shape.reduce((a, c) => a * c, 1);
      if (!(data instanceof Float32Array) || data.length !== n) {
        throw new Error(`onnxruntime pre-training step: parameter ${p.name} has ${data?.length ?? 'no'} values; expected [${p.shape}] = ${n} float32 values`);
      }
      feeds[p.name] = new this.ort.Tensor('float32', toGraph(p, data), p.graphShape);
    }
    return feeds;
  }

  async step(input: PretrainStepInput): Promise<PretrainStepOutput> {
    const out = await this.session.run(this.feeds(input));
    const grads = new Map<string, Float32Array>();
    for (const p of this.params) grads.set(p.name, toOurs(p, out[pretrainGradName(p.name)].data as Float32Array));
    return {
      loss: (out.loss.data as Float32Array)[0],
      grads,
      bnStats: this.bns.map((bn) => ({ name: bn.name, mean: out[bnMeanName(bn.name)].data as Float32Array, variance: out[bnVarName(bn.name)].data as Float32Array, count: bn.count })),
    };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** running = (1 - momentum) running + momentum batch, with the unbiased variance (PyTorch/tfjs's rule,
 *  the same tf ops as batchNormTraining so both engines round alike). */
export function updateRunningStats(params: ReadonlyMap<string, tf.Variable>, stats: readonly BnBatchStats[], momentum = BN_MOMENTUM): void {
  for (const s of stats) {
    const rm = params.get(`${s.name}.running_mean`) ?? params.get(`${s.name}.moving_mean`);
    const rv = params.get(`${s.name}.running_var`) ?? params.get(`${s.name}.moving_variance`);
    if (!rm || !rv) throw new Error(`updateRunningStats: BN ${s.name} has no running_mean/running_var parameters in the backbone`);
    if (rm.size !== s.mean.length || rv.size !== s.variance.length) throw new Error(`updateRunningStats: BN ${s.name} has ${rm.size} channels; the batch statistics have ${s.mean.length}`);
    tf.tidy(() => {
      rm.assign(tf.add(tf.mul(rm, 1 - momentum), tf.mul(tf.tensor(s.mean, rm.shape), momentum)));
      const unbiased = tf.mul(tf.tensor(s.variance, rv.shape), s.count / (s.count - 1));
      rv.assign(tf.add(tf.mul(rv, 1 - momentum), tf.mul(unbiased, momentum)));
    });
  }
}
