// Writes one SSMB block (docs/design.md#the-ssmb-block) as ONNX ops on an NCHW feature map x [B,C,H,W]:
//   mu, sigma over H,W -> s = [mu, sigma] -> p = softmax(s Wr + br) -> k = argmax p, g = p[k]
//   expert k's MLP (OneHot(k) @ stacked expert weights) -> (dgamma, dbeta)
//   y = x + g ((x - mu) dgamma + dbeta)            ['style+spatial' adds + g pw_k(dw_k((x - mu) / sigma))]
// The same emitter serves export (parameters are initializers) and the onnxruntime training engine
// (parameters are graph inputs that Adam updates without rebuilding the session): the caller passes a
// parameter provider `(key, shape) => value name`, with our parameter keys and layouts (SSMBBlock.params);
// layout changes (depthwise [3,3,C] -> [C,1,3,3], pointwise [I,O] -> [O,I,1,1]) are graph nodes, which
// onnxruntime folds away for initializers and differentiates for inputs.
// Written for onnxruntime's speed on the full-size map and for the engine's gradient table:
// - the expert pick is OneHot(k) @ W (tfjs's formulation: exact, only expert k's rows contribute), so
//   its gradients are matmuls; the gate is sum(p * OneHot(k)) so the router's gradient flows through p;
// - the variance is two-pass (mean of d^2, d = x - mu), as in tfjs, and the modulation is
//   Sum(x, d a, c) with a = g dgamma, c = g dbeta: two full-size ops, no cancellation (see below).
//
// The seam for expert kinds (how a new kind gets its ONNX emission, export and onnxruntime training alike):
// - its parameters: add their keys and shapes (SSMBBlock.params' keys and layouts) to ssmbParamShapes for
//   that kind; the emitter asks the provider `p(key)` for each, and the training graph turns every key it
//   is asked for into a graph input `ssmb.<tap>.<key>` with a gradient output, so nothing else changes;
// - its computation: a function like emitSpatialExperts below, given the block's intermediate values
//   (d = x - mu, sigma, the one-hot expert choice, the gate) and `p`, returning a term added to y (or a
//   replacement of the modulation), built only from ops the engine's op table has (engine/ops/), so that
//   deriveVjp differentiates it; an op it lacks is named when the training graph is built.
import type { OnnxGraphBuilder } from './onnx_graph_builder.ts';
import { SSMB_EPS, type ExpertKind, type SSMBBlock } from '../../ssmb/ssmb_block.ts';

/** Returns the value that holds parameter `key` (our layout, `shape`). */
export type ParamProvider = (key: string, shape: number[]) => string;

export interface SsmbBlockSpec {
  tap: string;
  channels: number; // C
  numExperts: number; // N
  hidden: number; // D
  kind: ExpertKind;
  spatial: number; // H = W of the tapped map (the mean of x^2 is a sum of squares / (H W))
}

export interface SsmbBlockValues {
  y: string; // [B,C,H,W]
  expert: string; // int64 [B]
  probs: string; // [B,N]
  gate: string; // [B,1]
}

export function ssmbSpec(tap: string, block: SSMBBlock, spatial: number): SsmbBlockSpec {
  return { tap, channels: block.channels, numExperts: block.numExperts, hidden: block.hidden, kind: block.kind, spatial };
}

/** Our parameter keys and shapes of a block (SSMBBlock.params), in the order the emitter asks for them. */
export function ssmbParamShapes(spec: SsmbBlockSpec): Map<string, number[]> {
  const { channels: C, numExperts: N, hidden: D } = spec;
  const m = new Map<string, number[]>();
  if (N > 1) {
    m.set('router.weight', [2 * C, N]);
    m.set('router.bias', [N]);
  }
  m.set('experts.fc1.weight', [N, 2 * C, D]);
  m.set('experts.fc1.bias', [N, D]);
  m.set('experts.fc2.weight', [N, D, 2 * C]);
  m.set('experts.fc2.bias', [N, 2 * C]);
  if (spec.kind === 'style+spatial') {
    for (let k = 0; k < N; k++) {
      m.set(`experts.${k}.dw.weight`, [3, 3, C]);
      m.set(`experts.${k}.pw.weight`, [C, C]);
    }
  }
  return m;
}

/** Export: every parameter an initializer `ssmb.<tap>.<key>` holding the block's current values. */
export function initializerParams(b: OnnxGraphBuilder, tap: string, block: SSMBBlock): ParamProvider {
  return (key, shape) => {
    const v = block.params.get(key);
    if (!v) throw new Error(`SSMB export: block at ${tap} has no parameter '${key}'`);
    if (v.shape.length !== shape.length || v.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`SSMB export: ${tap} parameter '${key}' has shape [${v.shape}]; expected [${shape}]`);
    }
    return b.weight(`ssmb.${tap}.${key}`, shape, v.dataSync() as Float32Array);
  };
}

/** Emits the block on NCHW value `x`. */
export function emitSsmbBlock(b: OnnxGraphBuilder, spec: SsmbBlockSpec, x: string, param: ParamProvider): SsmbBlockValues {
  const { channels: C, numExperts: N, hidden: D, tap } = spec;
  if (!Number.isInteger(spec.spatial) || spec.spatial < 1) throw new Error(`SSMB block at ${tap}: spatial is ${spec.spatial}; expected the tapped map's side H = W`);
  const shapes = ssmbParamShapes(spec);
  const p = (key: string) => param(key, shapes.get(key)!);
  const i64 = (hint: string, v: number[]) => b.int64(`${tap}_${hint}`, v);

  const mu = b.op1('ReduceMean', [x], { axes: [2, 3], keepdims: 1 }); // [B,C,1,1]
  // two-pass variance, as tfjs computes it: E[x^2] - mu^2 loses the variance to cancellation wherever a
  // channel's mean is large against its spread (measured: 0.7 relative error in router gradients at
  // layer3 of a random IResNet-18)
  const d = b.op1('Sub', [x, mu]); // [B,C,H,W]
  const variance = b.op1('Mul', [b.op1('ReduceSumSquare', [d], { axes: [2, 3], keepdims: 1 }), b.scalar(`${tap}_inv_hw`, 1 / (spec.spatial * spec.spatial))]); // [B,C,1,1]
  const sigma = b.op1('Sqrt', [b.op1('Add', [variance, b.scalar(`${tap}_eps`, SSMB_EPS)])]); // [B,C,1,1]
  const s = b.op1('Concat', [b.op1('Flatten', [mu], { axis: 1 }), b.op1('Flatten', [sigma], { axis: 1 })], { axis: 1 }); // [B,2C]
  // N = 1 has no router: a zero router gives softmax 1, expert 0 and gate 1, exactly as SSMBBlock.
  const routerW = N > 1 ? p('router.weight') : b.constant(`${tap}_router_w0`, [2 * C, 1], new Float32Array(2 * C));
  const routerB = N > 1 ? p('router.bias') : b.constant(`${tap}_router_b0`, [1], new Float32Array(1));
  const probs = b.op1('Softmax', [b.op1('Gemm', [s, routerW, routerB])], { axis: 1 }); // [B,N]
  const expert = b.op1('ArgMax', [probs], { axis: 1, keepdims: 0 }); // [B] int64
  const onehot = b.op1('OneHot', [expert, b.int64(`${tap}_depth`, [N], []), b.constant(`${tap}_onehot_values`, [2], Float32Array.of(0, 1))], { axis: -1 }); // [B,N]
  const gate = b.op1('ReduceSum', [b.op1('Mul', [probs, onehot]), i64('axes', [1])], { keepdims: 1 }); // [B,1]

  // per-sample expert weights W_k = OneHot(k) @ W (stacked experts flattened): [B, rows*cols] -> [B,rows,cols]
  const pick = (key: string, rows: number, cols: number) =>
    b.op1('Reshape', [b.op1('MatMul', [onehot, b.op1('Reshape', [p(key), i64('shape', [N, rows * cols])])]), i64('shape', [0, rows, cols])]);
  const s3 = b.op1('Reshape', [s, i64('shape', [0, 1, 2 * C])]); // [B,1,2C]
  const h1 = b.op1('Reshape', [b.op1('MatMul', [s3, pick('experts.fc1.weight', 2 * C, D)]), i64('shape', [0, D])]); // [B,D]
  const h = b.op1('Relu', [b.op1('Add', [h1, b.op1('MatMul', [onehot, p('experts.fc1.bias')])])]); // [B,D]
  const h3 = b.op1('Reshape', [h, i64('shape', [0, 1, D])]); // [B,1,D]
  const o2 = b.op1('Reshape', [b.op1('MatMul', [h3, pick('experts.fc2.weight', D, 2 * C)]), i64('shape', [0, 2 * C])]); // [B,2C]
  const mod = b.op1('Add', [o2, b.op1('MatMul', [onehot, p('experts.fc2.bias')])]); // [B,2C] = (dgamma, dbeta)
  const [dgamma, dbeta] = b.op('Split', [mod, i64('split', [C, C])], { axis: 1 }, 2); // [B,C] x2
  const a4 = b.op1('Reshape', [b.op1('Mul', [gate, dgamma]), i64('shape', [0, C, 1, 1])]); // g dgamma [B,C,1,1]
  const c4 = b.op1('Reshape', [b.op1('Mul', [gate, dbeta]), i64('shape', [0, C, 1, 1])]); // g dbeta [B,C,1,1]
  // x + g((x - mu) dgamma + dbeta) = Sum(x, d a, c), d = x - mu: two full-size ops (Mul, and Sum
  // broadcasting c), and both gradients without cancellation: da = sum(dy d), dmu = -a sum(dy). (As
  // x (1 + a) + (c - mu a), da = sum(dy x) - mu sum(dy) cancels where a channel's mean is large against
  // its spread; as d (1 + a) + (mu + c), dmu = sum(dy) - (1 + a) sum(dy) cancels where a is small, and the
  // blocks upstream see it: measured 3e-4 at layer3 of IResNet-18 with a block at layer4.)
  let y = b.op1('Sum', [x, b.op1('Mul', [d, a4]), c4]); // [B,C,H,W]
  if (spec.kind === 'style+spatial') {
    const g4 = b.op1('Reshape', [gate, i64('shape', [0, 1, 1, 1])]); // [B,1,1,1]
    y = b.op1('Add', [y, b.op1('Mul', [g4, emitSpatialExperts(b, spec, d, sigma, onehot, p)])]);
  }
  return { y, expert, probs, gate };
}

/** 'style+spatial': sum_k OneHot(k)_k pw_k(dw_k((x - mu) / sigma)). Every expert runs on every sample (a
 *  static graph has no cheap per-sample dispatch); the one-hot weights keep only expert k's result. */
function emitSpatialExperts(b: OnnxGraphBuilder, spec: SsmbBlockSpec, d: string, sigma: string, onehot: string, p: (key: string) => string): string {
  const { channels: C, numExperts: N, tap } = spec;
  const xn = b.op1('Div', [d, sigma]); // (x - mu) / sigma [B,C,H,W]
  const parts = Array.from({ length: N }, (_, k) => {
    // [3,3,C] -> [C,1,3,3]; [I,O] -> [O,I,1,1]
    const dw = b.op1('Reshape', [b.op1('Transpose', [p(`experts.${k}.dw.weight`)], { perm: [2, 0, 1] }), b.int64(`${tap}_shape`, [C, 1, 3, 3])]);
    const pw = b.op1('Reshape', [b.op1('Transpose', [p(`experts.${k}.pw.weight`)], { perm: [1, 0] }), b.int64(`${tap}_shape`, [C, C, 1, 1])]);
    const hk = b.op1('Conv', [xn, dw], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: C }); // [B,C,H,W]
    const ok = b.op1('Conv', [hk, pw], { kernel_shape: [1, 1] }); // [B,C,H,W]
    if (N === 1) return ok;
    const sel = b.op1('Reshape', [b.op1('Slice', [onehot, b.int64(`${tap}_starts`, [k]), b.int64(`${tap}_ends`, [k + 1]), b.int64(`${tap}_axes`, [1])]), b.int64(`${tap}_shape`, [0, 1, 1, 1])]); // [B,1,1,1]
    return b.op1('Mul', [ok, sel]);
  });
  return parts.length === 1 ? parts[0] : b.op1('Sum', parts); // [B,C,H,W]
}
