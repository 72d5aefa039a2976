// The int8 rewrite of the frozen network in one of the engine's graphs (a pass over the builder, like the
// lowerings beside it): every Conv, Gemm and MatMul whose weight is a constant (the frozen backbone's;
// SSMB parameters are graph inputs or belong to no such op) gets
//   weights  int8 per output channel (quantized once per backbone: WeightCache),
//   input    uint8 per tensor at its calibrated range (calibrate.ts), one QuantizeLinear per value,
//   Conv     'qlinear': QLinearConv with an int32 bias and a uint8 output at the calibrated output range,
//            dequantized for the float ops after it; 'qdq': the same numbers as QuantizeLinear /
//            DequantizeLinear around a float Conv, left to onnxruntime's QDQ fusion;
//   Gemm / MatMul  the dequantized input times the dequantized int8 weight, float output (onnxruntime
//            fuses the pair into its int8 GEMM).
// A conv read only by Relu/Clip quantizes its output over the clipped range; depthwise convs stay float
// (keepFloat says why).
// The rewritten node keeps its output name, so a gradient already derived from the float graph (the
// training graph) reads the same values: the forward runs in int8, the input gradient through the frozen
// convs stays float (their float weights remain for it).
// A constant-weight op of another kind (ConvTranspose, a Gemm with transA or scaled terms, a conv that is
// not 2-D) is refused with its layer and op named: the caller falls back to fp32 and records why.
import type { OnnxGraphBuilder } from '../../weights/onnx/onnx_graph_builder.ts';
import { ONNX_FLOAT, ONNX_INT32, ONNX_INT8, ONNX_UINT8, type OnnxNode, type OnnxTensor } from '../../weights/onnx/onnx_proto.ts';
import { activationQuant, quantizeBias, quantizeWeightPerChannel, type ActivationQuant, type WeightQuant } from './quant_params.ts';
import type { Calibration } from './quant_params.ts';

export const INT8_FORMS = ['qlinear', 'qdq'] as const;
export type Int8Form = (typeof INT8_FORMS)[number];

/** Weights quantized per layer (weight initializer name), kept per backbone so a backbone is quantized once. */
export type WeightCache = Map<string, WeightQuant>;
const caches = new WeakMap<object, WeightCache>();
/** The weight cache of a (frozen) backbone object. */
export function weightCacheOf(backbone: object): WeightCache {
  let c = caches.get(backbone);
  if (!c) caches.set(backbone, (c = new Map()));
  return c;
}

/** A frozen op the quantizer cannot rewrite; names the layer (its weight) and the op. */
export class Int8UnsupportedError extends Error {
  constructor(readonly layer: string, readonly op: string, why: string) {
    super(`int8: layer '${layer}' (${op}) cannot be quantized: ${why}; use precision fp32 (auto falls back to it)`);
    this.name = 'Int8UnsupportedError';
  }
}

/** The frozen weight-bearing ops of a graph: node index, op and layer (weight initializer name). */
export interface FrozenLayer {
  index: number;
  op: string;
  layer: string;
}

const WEIGHTED_OPS = new Set(['Conv', 'Gemm', 'MatMul', 'ConvTranspose', 'ConvInteger', 'QLinearConv', 'MatMulInteger', 'Einsum']);

function constFloat(b: OnnxGraphBuilder, name: string | undefined): OnnxTensor | undefined {
  const t = name === undefined ? undefined : b.initializers.get(name);
  return t && t.dataType === ONNX_FLOAT ? t : undefined;
}

/** Every node among the first `limit` whose weight (second input) is a float constant. */
export function frozenLayers(b: OnnxGraphBuilder, limit = b.nodes.length): FrozenLayer[] {
  const out: FrozenLayer[] = [];
  for (let i = 0; i < limit; i++) {
    const n = b.nodes[i];
    if (WEIGHTED_OPS.has(n.opType) && constFloat(b, n.inputs[1])) out.push({ index: i, op: n.opType, layer: n.inputs[1] });
  }
  return out;
}

/** Throws Int8UnsupportedError for the first frozen layer the rewrite cannot handle. */
export function checkQuantizable(b: OnnxGraphBuilder, layers: FrozenLayer[]): void {
  for (const { index, op, layer } of layers) {
    const n = b.nodes[index];
    const w = b.initializers.get(layer)!;
    if (op === 'Conv') {
      if (w.dims.length !== 4) throw new Int8UnsupportedError(layer, op, `a ${w.dims.length - 2}-D convolution (weight [${w.dims}]); the int8 rewrite handles 2-D ones`);
      if (n.inputs[2] !== undefined && n.inputs[2] !== '' && !constFloat(b, n.inputs[2])) throw new Int8UnsupportedError(layer, op, 'its bias is not a constant');
    } else if (op === 'Gemm') {
      if (w.dims.length !== 2) throw new Int8UnsupportedError(layer, op, `weight [${w.dims}] is not a matrix`);
      if ((n.attrs.transA ?? 0) !== 0) throw new Int8UnsupportedError(layer, op, 'transA = 1');
      if ((n.attrs.alpha ?? 1) !== 1 || (n.attrs.beta ?? 1) !== 1) throw new Int8UnsupportedError(layer, op, `alpha ${n.attrs.alpha ?? 1}, beta ${n.attrs.beta ?? 1} (expected 1, 1)`);
    } else if (op === 'MatMul') {
      if (w.dims.length !== 2) throw new Int8UnsupportedError(layer, op, `weight [${w.dims}] is not a matrix`);
    } else {
      throw new Int8UnsupportedError(layer, op, `the int8 rewrite handles Conv, Gemm and MatMul, not ${op}`);
    }
  }
}

/**
 * Why a frozen layer stays float by default (null: it goes int8). Depthwise convs: 9 multiply-adds per
 * output, so int8 saves little of their time while the quantize/dequantize passes around them cost a
 * full map each, and their per-tensor activations lose the most (measured on faceres MobileNet, synthetic
 * benchmark: worst-image cosine to fp32 0.976 with them in int8, 0.991 without).
 */
export function keepFloat(b: OnnxGraphBuilder, n: OnnxNode): string | null {
  if (n.opType !== 'Conv') return null;
  const group = typeof n.attrs.group === 'number' ? n.attrs.group : 1;
  return group > 1 ? `depthwise (group ${group})` : null;
}

export interface QuantizeOptions {
  calibration: Calibration;
  form: Int8Form;
  /** rewrite only the first `limit` nodes (the training graph: the forward, not its gradient) */
  limit?: number;
  /** per-backbone weight cache (weightCacheOf); a fresh one when absent */
  weights?: WeightCache;
  /** which frozen layers to rewrite (true), or why not (false, or the reason); depthwise convs stay float
   *  anyway (keepFloat); the float ones are listed in the report */
  select?: (layer: string, op: string) => boolean | string;
}

export interface QuantizeReport {
  /** layers rewritten, in graph order */
  layers: { layer: string; op: string }[];
  /** frozen layers left float (by `select`, or depthwise), with why */
  float: { layer: string; op: string; why: string }[];
  /** QuantizeLinear passes over activations (a value read by several layers is quantized once) */
  activationQuantizers: number;
}

/** Rewrites the frozen layers of the builder's graph in place; see the file comment. */
export function quantizeFrozenLayers(b: OnnxGraphBuilder, opts: QuantizeOptions): QuantizeReport {
  const all = frozenLayers(b, opts.limit);
  const floatWhy = new Map<string, string>();
  for (const l of all) {
    const chosen = opts.select ? opts.select(l.layer, l.op) : true;
    const why = keepFloat(b, b.nodes[l.index]) ?? (chosen === true ? null : typeof chosen === 'string' ? chosen : 'not selected');
    if (why) floatWhy.set(l.layer, why);
  }
  const layers = all.filter((l) => !floatWhy.has(l.layer));
  checkQuantizable(b, layers);
  const cache: WeightCache = opts.weights ?? new Map();
  const ranges = opts.calibration.ranges;
  const missing = layers.filter((l) => !ranges.has(l.layer));
  if (missing.length) {
    throw new Error(`int8: the calibration (${opts.calibration.images} images) has no range for layer(s) ${missing.map((l) => `'${l.layer}' (${l.op})`).join(', ')}; ` +
      'calibrate the same backbone the graph is built from');
  }
  const scalar = (v: number) => b.constant('q_scale', [], Float32Array.of(v));
  const zero = (q: ActivationQuant) => b.typed('q_zero', [], ONNX_UINT8, Uint8Array.of(q.zeroPoint));
  const quantized = new Map<string, { q: string; p: ActivationQuant }>(); // value -> its uint8 tensor
  const quantize = (value: string, p: ActivationQuant, pre: OnnxNode[]) => {
    const hit = quantized.get(value);
    if (hit && hit.p.scale === p.scale && hit.p.zeroPoint === p.zeroPoint) return hit.q;
    const q = b.fresh(`${value}_u8`);
    pre.push({ name: `${q}_quantize`, opType: 'QuantizeLinear', domain: '', inputs: [value, scalar(p.scale), zero(p)], outputs: [q], attrs: {} });
    quantized.set(value, { q, p });
    return q;
  };
  const node = (opType: string, inputs: string[], outputs: string[], attrs: OnnxNode['attrs'] = {}): OnnxNode => ({ name: `${outputs[0]}_${opType}`, opType, domain: '', inputs, outputs, attrs });
  const dequantize = (q: string, p: ActivationQuant, out: string) => node('DequantizeLinear', [q, scalar(p.scale), zero(p)], [out]);

  // a conv whose only readers clip (Relu, Clip: MobileNet's ReLU6) needs its output only inside the clip:
  // the uint8 range shrinks to it (saturation clips the same values), a finer step for what matters
  const readers = new Map<string, OnnxNode[]>();
  for (const n of b.nodes) for (const v of n.inputs) { if (!readers.has(v)) readers.set(v, []); readers.get(v)!.push(n); }
  const outputNames = new Set(b.outputs.map((o) => o.name));
  const clipOf = (value: string): [number, number] | null => {
    const rs = readers.get(value) ?? [];
    if (rs.length === 0 || outputNames.has(value)) return null;
    let lo = Infinity, hi = -Infinity;
    for (const r of rs) {
      if (r.opType === 'Relu') { lo = Math.min(lo, 0); hi = Infinity; continue; }
      const bound = (i: number) => { const t = constFloat(b, r.inputs[i]); return t && t.data.length === 1 ? (t.data[0] as number) : undefined; };
      if (r.opType !== 'Clip' || r.inputs[0] !== value) return null;
      lo = Math.min(lo, bound(1) ?? -Infinity);
      hi = Math.max(hi, bound(2) ?? Infinity);
    }
    return [lo, hi];
  };
  const replacement = new Map<number, OnnxNode[]>();
  const originals = new Map(layers.map(({ index }) => [index, b.nodes[index].inputs.slice(1)]));
  for (const { index, op, layer } of layers) {
    const n = b.nodes[index];
    const w = b.initializers.get(layer)!;
    const r = ranges.get(layer)!;
    const xp = activationQuant(r.inMin, r.inMax);
    const nodes: OnnxNode[] = [];
    const xq = quantize(n.inputs[0], xp, nodes);
    // Gemm with transB: [O,K], output channel first; MatMul / Gemm without: [K,O]
    const outAxis = op === 'Conv' || (op === 'Gemm' && n.attrs.transB === 1) ? 0 : 1;
    const O = w.dims[outAxis];
    const key = `${layer}|${fingerprint(w.data as Float32Array)}`; // the same name holds folded or unfolded weights
    let wq = cache.get(key);
    if (!wq) {
      const data = w.data as Float32Array;
      const rows = outAxis === 0 ? data : transpose2d(data, w.dims[0], w.dims[1]); // output channel first
      const q0 = quantizeWeightPerChannel(rows, O);
      wq = { q: outAxis === 0 ? q0.q : transposeInt8(q0.q, w.dims[1], w.dims[0]), scale: q0.scale };
      cache.set(key, wq);
    }
    const wInt = b.typed(`${layer}_int8`, w.dims, ONNX_INT8, wq.q);
    const wScale = b.constant(`${layer}_wscale`, [O], wq.scale);
    const wZero = b.typed(`${layer}_wzero`, [O], ONNX_INT8, new Int8Array(O));
    if (op === 'Conv') {
      const clip = clipOf(n.outputs[0]);
      const hi = clip ? Math.min(r.outMax, clip[1]) : r.outMax;
      const yp = clip ? activationQuant(Math.min(Math.max(r.outMin, clip[0]), hi), hi) : activationQuant(r.outMin, hi);
      const bias = constFloat(b, n.inputs[2]);
      const bq = b.typed(`${layer}_bias_int32`, [O], ONNX_INT32, quantizeBias(bias ? (bias.data as Float32Array) : new Float32Array(O), xp.scale, wq.scale));
      const yq = b.fresh(`${n.outputs[0]}_u8`);
      if (opts.form === 'qlinear') {
        nodes.push(node('QLinearConv', [xq, scalar(xp.scale), zero(xp), wInt, wScale, wZero, scalar(yp.scale), zero(yp), bq], [yq], n.attrs));
      } else {
        const xd = b.fresh(`${n.inputs[0]}_dq`), wd = b.fresh(`${layer}_dq`), bd = b.fresh(`${layer}_bias_dq`), yf = b.fresh(`${n.outputs[0]}_f`);
        nodes.push(node('DequantizeLinear', [xq, scalar(xp.scale), zero(xp)], [xd]));
        nodes.push(node('DequantizeLinear', [wInt, wScale, wZero], [wd], { axis: 0 }));
        const bScale = b.constant(`${layer}_bscale`, [O], Float32Array.from(wq.scale, (s) => s * Math.fround(xp.scale)));
        nodes.push(node('DequantizeLinear', [bq, bScale, b.typed(`${layer}_bzero`, [O], ONNX_INT32, new Int32Array(O))], [bd], { axis: 0 }));
        nodes.push(node('Conv', [xd, wd, bd], [yf], n.attrs));
        nodes.push(node('QuantizeLinear', [yf, scalar(yp.scale), zero(yp)], [yq]));
      }
      nodes.push(dequantize(yq, yp, n.outputs[0]));
    } else {
      const xd = b.fresh(`${n.inputs[0]}_dq`), wd = b.fresh(`${layer}_dq`);
      nodes.push(node('DequantizeLinear', [xq, scalar(xp.scale), zero(xp)], [xd]));
      nodes.push(node('DequantizeLinear', [wInt, wScale, wZero], [wd], { axis: outAxis }));
      nodes.push(node(op, [xd, wd, ...n.inputs.slice(2)], n.outputs, n.attrs));
    }
    replacement.set(index, nodes);
  }
  const rewritten = b.nodes.flatMap((n, i) => replacement.get(i) ?? [n]);
  b.nodes.splice(0, b.nodes.length, ...rewritten);
  // the float weights stay only where something still reads them (the training graph's input gradient)
  const used = new Set(b.nodes.flatMap((n) => n.inputs));
  for (const { index } of layers) for (const v of originals.get(index)!) if (!used.has(v) && b.initializers.has(v)) b.initializers.delete(v);
  return {
    layers: layers.map(({ layer, op }) => ({ layer, op })), float: all.filter((l) => floatWhy.has(l.layer)).map(({ layer, op }) => ({ layer, op, why: floatWhy.get(layer)! })),
    activationQuantizers: quantized.size,
  };
}

/** A cheap identity of a weight's values (length, sum, sum of squares weighted by position). */
function fingerprint(a: Float32Array): string {
  let s = 0, t = 0;
  for (let i = 0; i < a.length; i++) { s += a[i]; t += a[i] * a[i] * ((i % 97) + 1); }
  return `${a.length}:${s}:${t}`;
}

function transpose2d(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}

function transposeInt8(a: Int8Array, rows: number, cols: number): Int8Array {
  const out = new Int8Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}
