// An SSMB training step on onnxruntime: one session over the training graph (student_graph.ts) that
// takes the images, labels, teacher embeddings and current SSMB parameters and returns the loss, its
// parts, the routing and every parameter gradient. The optimiser stays with the caller (the trainer's
// Adam), so checkpoints hold the same tensors whichever engine trained.
import { openWithPrecision, type PrecisionDescription, type PrecisionOptions } from './int8/precision.ts';
import { weightCacheOf } from './int8/quantize_graph.ts';
import { openGraphSession, type EngineDescription, type GraphSessionOptions, type Ort, type OrtSession } from './ort_session.ts';
import {
  buildTrainingGraph, gradOutputName, IMAGES_INPUT, LABELS_INPUT, probsOutputName, routingOutputName, SELECT_INPUT, TEACHER_INPUT,
  type EngineModel, type GraphParam, type TrainingGraphOptions,
} from './student_graph.ts';

export interface OrtTrainerOptions extends Omit<TrainingGraphOptions, 'int8'>, GraphSessionOptions, PrecisionOptions {}

export interface StepInput {
  /** NHWC [2B,S,S,3] scaled (v - 127.5) / 127.5: the B anchors, then their B partners */
  images: Float32Array;
  /** [B] 1 = same identity */
  labels: Float32Array;
  /** [B,E] teacher embeddings T(v) of the anchors */
  teacher: Float32Array;
  /** every SSMB parameter by name (ssmb.<tap>.<key>), our layout */
  params: ReadonlyMap<string, Float32Array>;
  /** label-selected blocks only: [2B,N] 0/1 rows, each image's expert from its modality label */
  select?: Float32Array;
}

export interface StepRouting {
  tap: string;
  numExperts: number;
  probs: Float32Array; // [2B,N]
  expert: Int32Array; // [2B]
}

/** The objective at the given parameters, without gradients (a forward-only session, or a training one). */
export interface LossOutput {
  loss: number;
  lossCc: number;
  lossTs: number;
  lossLb: number;
  embedding: Float32Array; // [2B,E]
  routing: StepRouting[];
}

export interface StepOutput extends LossOutput {
  grads: Map<string, Float32Array>;
}

export type { EngineDescription };

/** Why a training (gradient) session runs its frozen network in fp32 whatever the precision asked. */
export const GRADIENT_GRAPH_FP32 = 'the training step stays fp32 (an int8 frozen forward fails the SSMB gradient guard); ' +
  'int8 runs in the teacher embeddings, the fixed-pair loss and evaluation';

export class OrtSsmbTrainer {
  private constructor(
    private readonly ort: Ort,
    private readonly session: OrtSession,
    readonly pairs: number,
    readonly imageSize: number,
    readonly embeddingSize: number,
    readonly params: readonly GraphParam[],
    readonly blocks: readonly { tap: string; numExperts: number }[],
    readonly description: EngineDescription,
    /** false: built with `gradients: false`, so only `evaluate` runs (one forward) */
    readonly gradients: boolean,
    /** fp32 or int8 forward of the frozen network (train.precision), why, the calibration used */
    readonly precision: PrecisionDescription,
    /** experts N of the select input (label-selected blocks), null = none */
    readonly selectExperts: number | null = null,
  ) {}

  static async create(model: EngineModel, opts: OrtTrainerOptions): Promise<OrtSsmbTrainer> {
    const key = opts.precisionKey ?? 'train.precision';
    // A gradient session stays fp32 (recorded): an int8 frozen forward moves the SSMB parameter gradients
    // far beyond the 5% guard, even with only the layer before the first block in int8 (measured, relative
    // norm of the difference, one step of 6 pairs: IResNet-18 9-21%, dlib ResNet-29 20-46%, every layer in
    // int8 or only the stem conv alike; int8_training.test.ts). Its forward-only loss graph goes int8.
    const gradientGraph = opts.gradients !== false && opts.precision !== undefined && opts.precision !== 'fp32';
    const requested = opts.precision;
    const precisionOpts = gradientGraph ? { ...opts, precision: 'fp32' as const } : opts;
    const { value: { ort, session, graph: g, description }, precision: opened } = await openWithPrecision({ precisionKey: key, weights: weightCacheOf(model.backbone), ...precisionOpts }, async (int8) => {
      const opened = await openGraphSession(opts, (provider) => buildTrainingGraph(model, { ...opts, provider, int8 }), (g) => ({
        what: `${int8 ? 'int8 ' : ''}${g.gradients ? `SSMB training graph (${g.stats.forwardNodes} forward + ${g.stats.gradientNodes} gradient nodes)` : `SSMB loss graph (${g.stats.forwardNodes} forward nodes, no gradients)`}`,
        nodes: { forward: g.stats.forwardNodes, gradient: g.stats.gradientNodes },
      }));
      return { ...opened, int8Layers: opened.graph.int8?.layers.length ?? 0 };
    });
    const precision = gradientGraph ? { ...opened, reason: `${key} ${requested}: ${GRADIENT_GRAPH_FP32}` } : opened;
    return new OrtSsmbTrainer(ort, session, g.pairs, g.imageSize, g.embeddingSize, g.params, g.blocks, description, g.gradients, precision, g.selectExperts);
  }

  /** Checks every input against the graph's shapes, naming the input, what it got and what it expected. */
  private feeds(input: StepInput): Record<string, InstanceType<Ort['Tensor']>> {
    const B = this.pairs, S = this.imageSize, E = this.embeddingSize;
    const check = (name: string, data: Float32Array, dims: number[]) => {
      const want = dims.reduce((a, c) => a * c, 1);
      if (!(data instanceof Float32Array) || data.length !== want) {
        throw new Error(`onnxruntime SSMB step: ${name} has ${data?.length ?? 'no'} values; expected [${dims}] = ${want} float32 values`);
      }
      return new this.ort.Tensor('float32', data, dims);
    };
    const feeds: Record<string, InstanceType<Ort['Tensor']>> = {
      [IMAGES_INPUT]: check('images', input.images, [2 * B, S, S, 3]),
      [LABELS_INPUT]: check('labels', input.labels, [B]),
      [TEACHER_INPUT]: check('teacher', input.teacher, [B, E]),
    };
    if (this.selectExperts !== null) {
      if (!input.select) throw new Error(`onnxruntime SSMB step: the blocks choose their expert by the modality label; pass select [${2 * B},${this.selectExperts}]`);
      feeds[SELECT_INPUT] = check('select', input.select, [2 * B, this.selectExperts]);
    } else if (input.select) {
      throw new Error('onnxruntime SSMB step: select was given, but the blocks route themselves (no label selection)');
    }
    const known = new Set(this.params.map((p) => p.name));
    const unknown = [...input.params.keys()].filter((k) => !known.has(k));
    if (unknown.length) throw new Error(`onnxruntime SSMB step: unknown parameter(s) ${unknown.join(', ')}; the graph has ${[...known].join(', ')}`);
    for (const p of this.params) {
      const data = input.params.get(p.name);
      if (!data) throw new Error(`onnxruntime SSMB step: parameter ${p.name} is missing; expected [${p.shape}]`);
      feeds[p.name] = check(`parameter ${p.name}`, data, p.shape);
    }
    return feeds;
  }

  async step(input: StepInput): Promise<StepOutput> {
    if (!this.gradients) throw new Error('onnxruntime SSMB step: this session was built with gradients: false (a loss graph); call evaluate(), or create the trainer with gradients');
    const out = await this.session.run(this.feeds(input));
    const grads = new Map<string, Float32Array>();
    for (const p of this.params) grads.set(p.name, out[gradOutputName(p.name)].data as Float32Array);
    return { ...this.lossOf(out), grads };
  }

  /** The loss, its parts, embeddings and routing at `input.params`, nothing updated (on a session built with
   *  `gradients: false` this is one forward pass). */
  async evaluate(input: StepInput): Promise<LossOutput> {
    return this.lossOf(await this.session.run(this.feeds(input)));
  }

  private lossOf(out: Awaited<ReturnType<OrtSession['run']>>): LossOutput {
    const scalar = (name: string) => (out[name].data as Float32Array)[0];
    return {
      loss: scalar('loss'), lossCc: scalar('loss_cc'), lossTs: scalar('loss_ts'), lossLb: scalar('loss_lb'),
      embedding: out.embedding.data as Float32Array,
      routing: this.blocks.map((bl) => ({
        tap: bl.tap, numExperts: bl.numExperts,
        probs: out[probsOutputName(bl.tap)].data as Float32Array,
        expert: Int32Array.from(out[routingOutputName(bl.tap)].data as BigInt64Array, Number),
      })),
    };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
