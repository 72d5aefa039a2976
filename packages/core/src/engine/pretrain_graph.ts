// The backbone pre-training graph of the onnxruntime engine: NHWC images -> the backbone's own ONNX
// emission (backbone.emitOnnx, unfolded) with
//   1. every trainable parameter turned from an initializer into a graph INPUT (Adam's updates need no
//      new session). The family emits in its own export layout (IResNet: insightface's OIHW convs, a
//      permuted fc), so the map between our layout and the emitted one is found by probing: each
//      trainable variable is set to 1..n for one emission and the initializer's values say which of our
//      elements each emitted element is. Any layout that is a permutation works without per-family code;
//      one that is not (a parameter the emission computes with) is refused, naming it.
//   2. every real BatchNorm layer (a BatchNormalization node whose mean/variance inputs are the backbone's
//      `<bn>.running_mean` / `<bn>.running_var` parameters; a BatchNormalization a PReLU or SSMB lowering
//      emits has other inputs and is left alone) rewritten into training mode: batch mean and biased
//      variance over every axis but the channel (two passes, as tfjs's batchNormTraining), whose values
//      are graph outputs so the caller updates the running statistics exactly as tfjs does;
//   3. the ArcFace loss (arcface_graph.ts) with the head weight [E,K] as an input and int64 labels;
//   4. the loss gradient of every input parameter (deriveVjp), in the emitted layout.
import type { Backbone } from '../models/backbone.ts';
import { tf } from '../tf.ts';
import { OnnxGraphBuilder } from '../weights/onnx/onnx_graph_builder.ts';
import { encodeOnnxModel, ONNX_FLOAT, ONNX_INT64, type OnnxNode } from '../weights/onnx/onnx_proto.ts';
import { emitArcFaceLoss, type ArcFaceGraphOptions } from './arcface_graph.ts';
import { emitBackbone, embeddingSizeOf, inputSizeOf } from './backbone_graph.ts';
import { deriveVjp, inferTypes } from './vjp.ts';
import { lowerForWebGpu } from './lower_webgpu.ts';

export const PRETRAIN_IMAGES = 'images';
export const PRETRAIN_LABELS = 'labels';
/** The ArcFace head's parameter name (the trainer's checkpoint key). */
export const HEAD_PARAM = 'arcface.weight';
export const pretrainGradName = (param: string) => `grad:${param}`;
export const bnMeanName = (bn: string) => `bn_mean:${bn}`;
export const bnVarName = (bn: string) => `bn_var:${bn}`;

/** A trainable input: `shape` in our layout, `graphShape` as emitted; emitted[i] = ours[perm[i]]. */
export interface PretrainParam {
  name: string;
  shape: number[];
  graphShape: number[];
  /** null = the same order (no copy needed) */
  perm: Int32Array | null;
}

/** A training-mode BN layer: `<name>.running_mean|running_var`, normalising `count` values per channel. */
export interface PretrainBn {
  name: string;
  channels: number;
  count: number;
}

export interface PretrainGraph {
  bytes: Uint8Array;
  batch: number;
  imageSize: number;
  embeddingSize: number;
  numClasses: number;
  params: PretrainParam[];
  bns: PretrainBn[];
  /** the labels input is float32 (built for webgpu: lower_webgpu.ts), else int64 */
  labelsFloat: boolean;
  stats: { forwardNodes: number; gradientNodes: number };
}

export interface PretrainGraphOptions extends ArcFaceGraphOptions {
  /** the execution provider the graph is built for ('webgpu': lower_webgpu.ts) */
  provider?: string;
}

// float32 holds every integer up to 2^24 exactly, so a probe of 1..n identifies n <= 2^24 elements
const PROBE_LIMIT = 2 ** 24;
const RUNNING_MEAN = /^(.*)\.(running_mean|moving_mean)$/;

/** Trainable parameters of the backbone by name, in the backbone's parameter order. */
function trainableParams(backbone: Backbone): [string, tf.Variable][] {
  const trainable = new Set(backbone.trainableVariables);
  return [...backbone.params].filter(([, v]) => trainable.has(v));
}

/** Emits the backbone with every trainable variable temporarily holding 1..n (restored afterwards). */
function emitProbed(b: OnnxGraphBuilder, backbone: Backbone, x: string, params: [string, tf.Variable][]): string {
  const saved = params.map(([, v]) => tf.keep(v.clone()));
  try {
    for (const [name, v] of params) {
      if (v.size > PROBE_LIMIT) throw new Error(`pre-training graph: parameter ${name} has ${v.size} values; the layout probe handles up to ${PROBE_LIMIT}`);
      tf.tidy(() => v.assign(tf.tensor(Float32Array.from({ length: v.size }, (_, i) => i + 1), v.shape)));
    }
    return emitBackbone(b, backbone, x, { foldBn: false });
  } finally {
    params.forEach(([, v], i) => v.assign(saved[i]));
    tf.dispose(saved);
  }
}

/** Turns the probed initializer of each trainable parameter into a graph input; returns the layout maps. */
function paramsToInputs(b: OnnxGraphBuilder, backbone: Backbone, params: [string, tf.Variable][]): PretrainParam[] {
  return params.map(([name, v]) => {
    const init = b.initializers.get(name);
    if (!init) {
      throw new Error(`pre-training graph: backbone ${backbone.name}'s ONNX emission has no initializer named '${name}' for that trainable parameter; ` +
        'the engine feeds parameters by their names, so the emission must keep them');
    }
    const data = init.data as Float32Array;
    const perm = new Int32Array(data.length);
    const seen = new Uint8Array(v.size);
    let identity = data.length === v.size;
    for (let i = 0; i < data.length; i++) {
      const j = data[i] - 1;
      if (data.length !== v.size || !Number.isInteger(j) || j < 0 || j >= v.size || seen[j]) {
        throw new Error(`pre-training graph: backbone ${backbone.name} emits parameter '${name}' [${v.shape}] as [${init.dims}] values that are not a rearrangement of ours ` +
          '(the emission computes with it); the engine can only feed parameters the emission copies');
      }
      seen[j] = 1;
      perm[i] = j;
      if (j !== i) identity = false;
    }
    b.initializers.delete(name);
    b.input(name, [...init.dims]);
    return { name, shape: [...v.shape], graphShape: [...init.dims], perm: identity ? null : perm };
  });
}

/** Rewrites each real BN layer into training mode (batch statistics); returns the layers. */
function trainingModeBn(b: OnnxGraphBuilder, backbone: Backbone): PretrainBn[] {
  const types = inferTypes(b); // names an op the engine does not know before anything else
  const bns: PretrainBn[] = [];
  const forward = b.nodes.splice(0);
  for (const node of forward) {
    const m = node.opType === 'BatchNormalization' ? RUNNING_MEAN.exec(node.inputs[3] ?? '') : null;
    if (!m || !backbone.params.has(node.inputs[3]) || !backbone.params.has(node.inputs[4] ?? '')) {
      b.nodes.push(node);
      continue;
    }
    const [x, gamma, beta] = node.inputs;
    const xs = types.get(x)!.shape; // [N,C,...]
    const C = xs[1];
    const count = xs.reduce((a, d, i) => (i === 1 ? a : a * d), 1);
    if (count < 2) throw new Error(`pre-training graph: BN ${m[1]} (node ${node.name}) sees ${count} value per channel at this batch size; training mode needs more than one`);
    const eps = typeof node.attrs.epsilon === 'number' ? node.attrs.epsilon : 1e-5;
    const axes = xs.map((_, i) => i).filter((i) => i !== 1);
    const bc = b.int64('bc', [1, C, ...xs.slice(2).map(() => 1)]);
    const mean = b.op1('ReduceMean', [x], { axes, keepdims: 1 }); // [1,C,1,1]
    const xc = b.op1('Sub', [x, mean]); // like x
    const variance = b.op1('ReduceMean', [b.op1('Mul', [xc, xc])], { axes, keepdims: 1 }); // [1,C,1,1] biased
    const inv = b.op1('Div', [b.scalar('one', 1), b.op1('Sqrt', [b.op1('Add', [variance, b.scalar('eps', eps)])])]); // [1,C,1,1]
    const k1 = b.op1('Mul', [b.op1('Reshape', [gamma, bc]), inv]); // [1,C,1,1]
    b.op1('Add', [b.op1('Mul', [xc, k1]), b.op1('Reshape', [beta, bc])]);
    (b.nodes[b.nodes.length - 1] as OnnxNode).outputs = [node.outputs[0]]; // the rest of the network reads the BN's output name
    const flat = b.int64('c', [C]);
    b.output(b.op1('Reshape', [mean, flat]), bnMeanName(m[1]), [C]);
    b.output(b.op1('Reshape', [variance, flat]), bnVarName(m[1]), [C]);
    bns.push({ name: m[1], channels: C, count });
  }
  // the builder names nodes <op>_<index>; the rewrite changed indices, so names are given afresh (unique,
  // and the gradient nodes appended later continue the numbering)
  b.nodes.forEach((n, i) => { if (!n.name.startsWith('output_')) n.name = `${n.opType}_${i}`; });
  return bns;
}

export function buildPretrainGraph(backbone: Backbone, opts: PretrainGraphOptions): PretrainGraph {
  const { batch, numClasses } = opts;
  if (!Number.isInteger(batch) || batch < 2) throw new Error(`pre-training graph: batch is ${batch}; expected an integer >= 2 (BN batch statistics)`);
  if (!Number.isInteger(numClasses) || numClasses < 2) throw new Error(`pre-training graph: numClasses is ${numClasses}; expected an integer >= 2`);
  // Dropout draws a mask from tf's RNG each step; the graph has no input for it, so it is refused here
  // (auto then pre-trains on tfjs with this reason) rather than trained without it.
  const dropout = (backbone.config as { dropout?: unknown }).dropout;
  if (typeof dropout === 'number' && dropout > 0) {
    throw new Error(`pre-training graph: backbone ${backbone.name} has dropout ${dropout}; the onnxruntime engine has no dropout, pre-train it with train.engine tfjs (auto does)`);
  }
  const params = trainableParams(backbone);
  if (params.length === 0) throw new Error(`pre-training graph: backbone ${backbone.name} has no trainable parameters (frozen?)`);
  const S = inputSizeOf(backbone), E = embeddingSizeOf(backbone);
  const b = new OnnxGraphBuilder();
  const images = b.input(PRETRAIN_IMAGES, [batch, S, S, 3]); // NHWC canonical
  const x = b.op1('Transpose', [images], { perm: [0, 3, 1, 2] }); // [B,3,S,S]
  const emb = emitProbed(b, backbone, x, params); // [B,E]
  const inputs = paramsToInputs(b, backbone, params);
  const bns = trainingModeBn(b, backbone);
  const labels = b.input(PRETRAIN_LABELS, [batch], ONNX_INT64);
  const head = b.input(HEAD_PARAM, [E, numClasses], ONNX_FLOAT);
  inputs.push({ name: HEAD_PARAM, shape: [E, numClasses], graphShape: [E, numClasses], perm: null });
  const loss = emitArcFaceLoss(b, emb, head, labels, opts);
  const forwardNodes = b.nodes.length;
  const vjp = deriveVjp(b, { wrt: inputs.map((p) => p.name), seeds: [{ value: loss }] });
  b.output(loss, 'loss', []);
  for (const p of inputs) b.output(vjp.grads.get(p.name)!, pretrainGradName(p.name), p.graphShape);
  const labelsFloat = opts.provider === 'webgpu' && lowerForWebGpu(b).floatInputs.includes(PRETRAIN_LABELS);
  return {
    bytes: encodeOnnxModel(b.toModel({ graphName: 'backbone-pretrain', opset: 13 })),
    batch, imageSize: S, embeddingSize: E, numClasses, params: inputs, bns, labelsFloat,
    stats: { forwardNodes, gradientNodes: b.nodes.length - forwardNodes },
  };
}
