// The graphs of the onnxruntime engine for an HFR model (frozen backbone + SSMB blocks):
// - the training graph: canonical NHWC images -> student forward (SSMB parameters as graph INPUTS, so
//   Adam's updates need no new session) -> embeddings, routing -> loss (loss_graph.ts) -> the gradient of
//   the loss with respect to every SSMB parameter, derived by deriveVjp from the forward graph. One
//   session run per step: the activations the backward needs stay inside onnxruntime (in
//   onnxruntime-node every graph output is copied into a new JavaScript buffer, ~80 ms for one
//   112x112x64 map at batch 16, so saved activations are not handed out).
// - the inference graph (teacher embeddings, evaluation): the same emission with the parameters as
//   initializers and a dynamic batch.
import type { HFRModel } from '../models/hfr_model.ts';
import { OnnxGraphBuilder } from '../weights/onnx/onnx_graph_builder.ts';
import { encodeOnnxModel, ONNX_INT64 } from '../weights/onnx/onnx_proto.ts';
import { emitSsmbBlock, initializerParams, ssmbParamShapes, ssmbSpec, type ParamProvider, type SsmbBlockSpec, type SsmbEmitOptions } from '../weights/onnx/ssmb_onnx_graph.ts';
import type { SSMBBlock } from '../ssmb/ssmb_block.ts';
import { embeddingSizeOf, emitBackbone, inputSizeOf, tapSpatialOf, type EngineBackbone } from './backbone_graph.ts';
import { emitSsmbLoss, type LossWeights } from './loss_graph.ts';
import type { VjpOptions } from './op_registry.ts';
import { deriveVjp } from './vjp.ts';
import { lowerBnReading } from './lower_bn.ts';
import { lowerConstantPrelu } from './lower_prelu.ts';
import { lowerForWebGpu } from './lower_webgpu.ts';
import { quantizeFrozenLayers, type Int8Form, type QuantizeReport, type WeightCache } from './int8/quantize_graph.ts';
import { bnAsAffine, preluAsMax } from './int8/affine_bn.ts';
import { addCalibrationOutputs, type Calibration } from './int8/calibrate.ts';

export const IMAGES_INPUT = 'images';
export const LABELS_INPUT = 'labels';
export const TEACHER_INPUT = 'teacher';
/** label-selected blocks (selection 'label'): [B,N] 0/1 rows, each sample's expert from its modality */
export const SELECT_INPUT = 'select';
export const gradOutputName = (param: string) => `grad:${param}`;
export const probsOutputName = (tap: string) => `probs_${tap}`;
export const routingOutputName = (tap: string) => `routing_${tap}`;

/** What the engine's graphs need of an HFR model: the frozen backbone and its blocks in network order. */
export interface EngineModel {
  backbone: EngineBackbone;
  blocks: ReadonlyMap<string, SSMBBlock>;
}

export function engineModelOf(model: HFRModel): EngineModel {
  return { backbone: model.backbone, blocks: model.blocks as ReadonlyMap<string, SSMBBlock> };
}

/** A trainable parameter: graph input `name` = `ssmb.<tap>.<key>` (the HFRModel / checkpoint key). */
export interface GraphParam {
  name: string;
  shape: number[];
}

/** The frozen network's layers in int8 (int8/quantize_graph.ts): the calibrated ranges, the form, the
 *  backbone's weight cache. */
export interface Int8GraphOptions {
  calibration: Calibration;
  form: Int8Form;
  weights?: WeightCache;
}

/** int8 runs on onnxruntime's CPU provider (its QLinearConv / VNNI kernels); other providers are refused. */
function checkInt8Provider(int8: Int8GraphOptions | undefined, provider: string | undefined): void {
  if (int8 && provider !== undefined && provider !== 'cpu') {
    throw new Error(`int8: the int8 graphs run on onnxruntime's cpu provider, not '${provider}'; use precision fp32 there (auto falls back to it)`);
  }
}

export interface TrainingGraph {
  bytes: Uint8Array;
  pairs: number;
  imageSize: number;
  embeddingSize: number;
  params: GraphParam[];
  /** whether the graph outputs the parameter gradients (TrainingGraphOptions.gradients) */
  gradients: boolean;
  blocks: { tap: string; numExperts: number }[];
  /** experts N of the `select` input when the blocks are label-selected; null = no such input */
  selectExperts: number | null;
  /** forward nodes the gradient passed through, nodes in the whole graph */
  stats: { forwardNodes: number; gradientNodes: number; visited: number };
  /** the int8 rewrite of the forward (absent: fp32) */
  int8?: QuantizeReport;
}

export interface TrainingGraphOptions {
  pairs: number;
  loss: LossWeights;
  /** fold each conv -> BN pair of the frozen backbone into one biased conv (default true) */
  foldBn?: boolean;
  /** rewrite constant-slope PRelu for onnxruntime's NCHWc layout (lower_prelu.ts; default true) */
  lowerPrelu?: boolean;
  vjp?: Partial<VjpOptions>;
  /** false = the forward and the loss only (no VJP, no grad outputs): a loss estimate on fixed pairs costs
   *  one forward, not a training step (default true) */
  gradients?: boolean;
  /** the execution provider the graph is built for: 'webgpu' rewrites the ops it has no kernel for
   *  (lower_webgpu.ts); others keep the graph as built */
  provider?: string;
  /** the frozen network's forward in int8; the gradients and the SSMB blocks stay float (OrtSsmbTrainer
   *  builds it for forward-only loss graphs: with gradients it fails the gradient guard, ssmb_trainer.ts) */
  int8?: Int8GraphOptions;
}

function blockSpecs(m: EngineModel): SsmbBlockSpec[] {
  return [...m.blocks].map(([tap, block]) => ssmbSpec(tap, block, tapSpatialOf(m.backbone, tap)));
}

/** NHWC canonical images [B,S,S,3] graph input, transposed to the NCHW value the backbone takes. */
function imagesInput(b: OnnxGraphBuilder, batch: number | string, size: number): string {
  const x = b.input(IMAGES_INPUT, [batch, size, size, 3]);
  return b.op1('Transpose', [x], { perm: [0, 3, 1, 2] }); // [B,3,S,S]
}

/** The experts of the label selection every label-selected block reads (one `select` input for all of
 *  them, so they must agree), or null when the blocks route themselves. */
export function labelSelectExperts(m: Pick<EngineModel, 'blocks'>): number | null {
  const label = [...m.blocks].filter(([, bl]) => bl.selection === 'label');
  if (label.length === 0) return null;
  if (label.length !== m.blocks.size) throw new Error(`the engine graph: blocks at ${label.map(([t]) => t).join(', ')} are label-selected and the others route themselves; expected one selection for every block`);
  const ns = new Set(label.map(([, bl]) => bl.numExperts));
  if (ns.size !== 1) throw new Error(`the engine graph: label-selected blocks have ${[...ns].join(', ')} experts; expected one count (one select input)`);
  return label[0][1].numExperts;
}

/** Backbone + SSMB blocks; `provider(tap, spec)` gives each block's parameters; `select`: the label
 *  selection value of label-selected blocks. */
function emitStudent(b: OnnxGraphBuilder, m: EngineModel, x: string, foldBn: boolean, provider: (spec: SsmbBlockSpec) => ParamProvider, form: SsmbEmitOptions['form'], select?: string) {
  const specs = new Map(blockSpecs(m).map((s) => [s.tap, s]));
  const routed: { tap: string; probs: string; expert: string; numExperts: number; y: string }[] = [];
  const emb = emitBackbone(b, m.backbone, x, {
    foldBn,
    afterTap: (tap, value, channels) => {
      const spec = specs.get(tap);
      if (!spec) return value;
      if (spec.channels !== channels) throw new Error(`SSMB block at ${tap} has ${spec.channels} channels; the backbone's tap has ${channels}`);
      const r = emitSsmbBlock(b, spec, value, provider(spec), { form, select });
      routed.push({ tap, probs: r.probs, expert: r.expert, numExperts: spec.numExperts, y: r.y });
      return r.y;
    },
  });
  const missing = [...specs.keys()].filter((t) => !routed.some((r) => r.tap === t));
  if (missing.length) throw new Error(`the backbone has no tap ${missing.join(', ')} for the SSMB blocks placed there`);
  return { emb, routed };
}

export function buildTrainingGraph(m: EngineModel, opts: TrainingGraphOptions): TrainingGraph {
  const { pairs } = opts;
  if (!Number.isInteger(pairs) || pairs < 1) throw new Error(`training graph: pairs is ${pairs}; expected a positive integer (images per step = 2 x pairs)`);
  if (m.blocks.size === 0) throw new Error('training graph: the model has no SSMB blocks; nothing to train');
  // Router jitter is noise drawn from the run's RNG each step; this graph has no input for it, so a
  // jittered model is refused here (train.engine auto then trains on tfjs, with this reason recorded)
  // rather than trained without its jitter.
  const jittered = [...m.blocks].filter(([, block]) => block.router.routerJitter > 0).map(([tap]) => tap);
  if (jittered.length) {
    throw new Error(`training graph: ssmb.routerJitter is ${m.blocks.get(jittered[0])!.router.routerJitter} (blocks at ${jittered.join(', ')}); the onnxruntime training engine has no router jitter, train it with train.engine tfjs (auto does)`);
  }
  checkInt8Provider(opts.int8, opts.provider);
  const S = inputSizeOf(m.backbone), E = embeddingSizeOf(m.backbone);
  const b = new OnnxGraphBuilder();
  const x = imagesInput(b, 2 * pairs, S);
  const labels = b.input(LABELS_INPUT, [pairs]);
  const teacher = b.input(TEACHER_INPUT, [pairs, E]);
  const selectExperts = labelSelectExperts(m);
  const select = selectExperts === null ? undefined : b.input(SELECT_INPUT, [2 * pairs, selectExperts]);
  const params: GraphParam[] = [];
  const { emb, routed } = emitStudent(b, m, x, opts.foldBn ?? true, (spec) => {
    const shapes = ssmbParamShapes(spec);
    return (key, shape) => {
      const name = `ssmb.${spec.tap}.${key}`;
      if (!shapes.has(key)) throw new Error(`SSMB block at ${spec.tap}: unknown parameter '${key}'`);
      params.push({ name, shape });
      return b.input(name, shape);
    };
  }, 'gradient', select);
  if (opts.lowerPrelu ?? !opts.int8) lowerConstantPrelu(b);
  if (opts.int8) { // on the forward alone: the VJP then differentiates the Mul/Add/Max form
    bnAsAffine(b);
    preluAsMax(b);
  }
  const loss = emitSsmbLoss(b, emb, labels, teacher, pairs, routed, opts.loss);
  const forwardNodes = b.nodes.length;
  const vjp = opts.gradients === false ? undefined : deriveVjp(b, { wrt: params.map((p) => p.name), seeds: [{ value: loss.total }], options: opts.vjp });
  const gradientNodes = b.nodes.length - forwardNodes; // the VJP's nodes (graph outputs add Identity nodes below)
  // after the VJP, which was derived from the float forward: the rewrite keeps every forward value's name
  const int8 = opts.int8 ? quantizeFrozenLayers(b, { ...opts.int8, limit: forwardNodes }) : undefined;
  b.output(loss.total, 'loss', []);
  b.output(loss.cc, 'loss_cc', []);
  b.output(loss.ts, 'loss_ts', []);
  b.output(loss.lb, 'loss_lb', []);
  b.output(emb, 'embedding', [2 * pairs, E]);
  for (const r of routed) {
    b.output(r.probs, probsOutputName(r.tap), [2 * pairs, r.numExperts]);
    b.output(r.expert, routingOutputName(r.tap), [2 * pairs], ONNX_INT64);
  }
  if (vjp) for (const p of params) b.output(vjp.grads.get(p.name)!, gradOutputName(p.name), p.shape);
  if (opts.provider === 'webgpu') lowerForWebGpu(b);
  const bytes = encodeOnnxModel(b.toModel({ graphName: vjp ? 'ssmb-train' : 'ssmb-loss', opset: 13 }));
  return {
    bytes, pairs, imageSize: S, embeddingSize: E, params, gradients: vjp !== undefined,
    blocks: routed.map((r) => ({ tap: r.tap, numExperts: r.numExperts })), selectExperts,
    stats: { forwardNodes, gradientNodes, visited: vjp?.visited ?? 0 },
    ...(int8 ? { int8 } : {}),
  };
}

export interface InferenceGraphOptions {
  foldBn?: boolean;
  lowerPrelu?: boolean;
  /** a frozen BatchNormalization reading an SSMB block's output as the depthwise conv it is (lower_bn.ts;
   *  default true) */
  lowerBn?: boolean;
  /** the SSMB blocks' form (default 'inference', fewest passes over the map: ssmb_onnx_graph.ts) */
  ssmbForm?: SsmbEmitOptions['form'];
  /** as TrainingGraphOptions.provider */
  provider?: string;
  /** the frozen network in int8 (SSMB blocks stay float) */
  int8?: Int8GraphOptions;
  /** a calibration graph instead: the float graph with the min/max of every frozen layer's input and
   *  output as extra outputs (int8/calibrate.ts) */
  calibrationOutputs?: boolean;
}

export interface InferenceGraph {
  bytes: Uint8Array;
  imageSize: number;
  embeddingSize: number;
  /** taps with an SSMB block, in network order (outputs routing_<tap>, probs_<tap>) */
  taps: string[];
  /** experts N of the `select` input [batch,N] of label-selected blocks; null = no such input */
  selectExperts: number | null;
  /** the int8 rewrite (absent: fp32) */
  int8?: QuantizeReport;
  /** with calibrationOutputs: the frozen layers measured */
  calibrated?: { layer: string; op: string }[];
}

/** Embedding graph with a dynamic batch: the backbone alone (teacher) or with its SSMB blocks. */
export function buildInferenceGraph(m: EngineModel | { backbone: EngineBackbone }, opts: InferenceGraphOptions = {}): InferenceGraph {
  const S = inputSizeOf(m.backbone), E = embeddingSizeOf(m.backbone);
  const b = new OnnxGraphBuilder();
  const x = imagesInput(b, 'batch', S);
  const withBlocks: EngineModel = { backbone: m.backbone, blocks: 'blocks' in m ? m.blocks : new Map() };
  checkInt8Provider(opts.int8, opts.provider);
  if (opts.int8 && opts.calibrationOutputs) throw new Error('inference graph: int8 and calibrationOutputs are exclusive (calibration measures the float graph)');
  const selectExperts = labelSelectExperts(withBlocks);
  const select = selectExperts === null ? undefined : b.input(SELECT_INPUT, ['batch', selectExperts]);
  const { emb, routed } = emitStudent(b, withBlocks, x, opts.foldBn ?? true, (spec) => initializerParams(b, spec.tap, withBlocks.blocks.get(spec.tap)!), opts.ssmbForm ?? 'inference', select);
  // the PRelu lowering serves onnxruntime's NCHWc float convs; around int8 convs (NHWC) it only adds passes
  if (opts.lowerPrelu ?? !opts.int8) lowerConstantPrelu(b);
  // after the PRelu lowering (which reads shapes through the op table, which has no int8 ops) and before
  // the BN one (whose constant convs are not backbone layers): the layers of the training graph
  const calibrated = opts.calibrationOutputs ? addCalibrationOutputs(b) : undefined;
  if (opts.int8) bnAsAffine(b);
  if (opts.int8) preluAsMax(b);
  const int8 = opts.int8 ? quantizeFrozenLayers(b, opts.int8) : undefined;
  if (opts.lowerBn ?? true) lowerBnReading(b, new Set(routed.map((r) => r.y)));
  b.output(emb, 'embedding', ['batch', E]);
  for (const r of routed) {
    b.output(r.expert, routingOutputName(r.tap), ['batch'], ONNX_INT64);
    b.output(r.probs, probsOutputName(r.tap), ['batch', r.numExperts]);
  }
  if (opts.provider === 'webgpu') lowerForWebGpu(b);
  return {
    bytes: encodeOnnxModel(b.toModel({ graphName: 'ssmb-embed', opset: 13 })), imageSize: S, embeddingSize: E, taps: routed.map((r) => r.tap), selectExperts,
    ...(int8 ? { int8 } : {}), ...(calibrated ? { calibrated } : {}),
  };
}
