// Writes one SSMB block (docs/design.md#the-ssmb-block) as ONNX ops on an NCHW feature map:
//   mu, sigma over H,W -> s = [mu, sigma] -> p = softmax(s Wr + br) -> k = argmax p, g = max p
//   expert k's MLP (weights stacked over experts and picked with Gather) -> (dgamma, dbeta)
//   y = x + g * ((x - mu) * dgamma + dbeta)
// The expert index k is returned so the exporter can expose it as a graph output.
import type { OnnxGraphBuilder } from './onnx_graph_builder.ts';
import type { PlainTensor } from './insightface_layout.ts';
import { SSMB_EPS, type SSMBBlock } from '../../ssmb/ssmb_block.ts';

/** One block's parameters in matmul layout ([in,out]), experts stacked on the first axis. */
export interface SsmbBlockTensors {
  tap: string;
  channels: number; // C
  numExperts: number; // N
  hidden: number; // D
  routerW: PlainTensor; // [2C,N]
  routerB: PlainTensor; // [N]
  w1: PlainTensor; // [N,2C,D]
  b1: PlainTensor; // [N,D]
  w2: PlainTensor; // [N,D,2C]  output order: dgamma (C) then dbeta (C)
  b2: PlainTensor; // [N,2C]
  /** 'style+spatial': per expert depthwise [3,3,C] and pointwise [C,C] (ours, NHWC/matmul layout) */
  spatial?: { dw: PlainTensor; pw: PlainTensor }[];
}

/** Reads an SSMBBlock's variables. N = 1 has no router: a zero router gives softmax 1, expert 0, gate 1. */
export function ssmbBlockTensors(tap: string, block: SSMBBlock): SsmbBlockTensors {
  const get = (name: string): PlainTensor => {
    const v = block.params.get(name);
    if (!v) throw new Error(`SSMB export: block at ${tap} has no parameter '${name}'`);
    return { shape: v.shape, data: v.dataSync() as Float32Array };
  };
  const { channels: C, numExperts: N, hidden: D } = block;
  const routed = N > 1;
  return {
    tap, channels: C, numExperts: N, hidden: D,
    routerW: routed ? get('router.weight') : { shape: [2 * C, 1], data: new Float32Array(2 * C) },
    routerB: routed ? get('router.bias') : { shape: [1], data: new Float32Array(1) },
    w1: get('experts.fc1.weight'), b1: get('experts.fc1.bias'), w2: get('experts.fc2.weight'), b2: get('experts.fc2.bias'),
    spatial: block.kind === 'style+spatial'
      ? Array.from({ length: N }, (_, k) => ({ dw: get(`experts.${k}.dw.weight`), pw: get(`experts.${k}.pw.weight`) }))
      : undefined,
  };
}
function checkShape(t: PlainTensor, want: number[], what: string): void {
  if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
    throw new Error(`SSMB export: ${what} has shape [${t.shape}]; expected [${want}]`);
  }
}

/** Emits the block on NCHW value `x`; returns the modulated map and the int64 expert index [B]. */
export function emitSsmbBlock(b: OnnxGraphBuilder, p: SsmbBlockTensors, x: string): { y: string; expert: string; probs: string } {
  const { channels: C, numExperts: N, hidden: D, tap } = p;
  checkShape(p.routerW, [2 * C, N], `${tap} router weight`);
  checkShape(p.routerB, [N], `${tap} router bias`);
  checkShape(p.w1, [N, 2 * C, D], `${tap} expert layer-1 weight`);
  checkShape(p.b1, [N, D], `${tap} expert layer-1 bias`);
  checkShape(p.w2, [N, D, 2 * C], `${tap} expert layer-2 weight`);
  checkShape(p.b2, [N, 2 * C], `${tap} expert layer-2 bias`);
  const w = (name: string, t: PlainTensor, dims = t.shape) => b.weight(`ssmb.${tap}.${name}`, dims, t.data);

  const mu = b.op1('ReduceMean', [x], { axes: [2, 3], keepdims: 1 }); // [B,C,1,1]
  const d = b.op1('Sub', [x, mu]); // [B,C,H,W]
  const variance = b.op1('ReduceMean', [b.op1('Mul', [d, d])], { axes: [2, 3], keepdims: 1 }); // [B,C,1,1]
  const sigma = b.op1('Sqrt', [b.op1('Add', [variance, b.weight(`ssmb.${tap}.eps`, [], Float32Array.of(SSMB_EPS))])]);
  const s = b.op1('Concat', [b.op1('Flatten', [mu], { axis: 1 }), b.op1('Flatten', [sigma], { axis: 1 })], { axis: 1 }); // [B,2C]
  const logits = b.op1('Gemm', [s, w('router.weight', p.routerW), w('router.bias', p.routerB)], { alpha: 1, beta: 1 }); // [B,N]
  const probs = b.op1('Softmax', [logits], { axis: 1 }); // [B,N]
  const expert = b.op1('ArgMax', [probs], { axis: 1, keepdims: 0 }); // [B] int64
  const gate = b.op1('ReduceMax', [probs], { axes: [1], keepdims: 1 }); // [B,1]

  // expert k's MLP on s: Gather picks each sample's expert weights
  const s3 = b.op1('Reshape', [s, b.int64('shape', [0, 1, 2 * C])]); // [B,1,2C]
  const w1 = b.op1('Gather', [w('experts.w1', p.w1), expert], { axis: 0 }); // [B,2C,D]
  const b1 = b.op1('Gather', [w('experts.b1', p.b1, [N, 1, D]), expert], { axis: 0 }); // [B,1,D]
  const h = b.op1('Relu', [b.op1('Add', [b.op1('MatMul', [s3, w1]), b1])]); // [B,1,D]
  const w2 = b.op1('Gather', [w('experts.w2', p.w2), expert], { axis: 0 }); // [B,D,2C]
  const b2 = b.op1('Gather', [w('experts.b2', p.b2, [N, 1, 2 * C]), expert], { axis: 0 }); // [B,1,2C]
  const o = b.op1('Add', [b.op1('MatMul', [h, w2]), b2]); // [B,1,2C]
  const [dgamma, dbeta] = b.op('Split', [b.op1('Reshape', [o, b.int64('shape', [0, 2 * C, 1, 1])])], { axis: 1 }, 2); // [B,C,1,1] x2
  const mod = b.op1('Add', [b.op1('Mul', [d, dgamma]), dbeta]); // [B,C,H,W]
  const g4 = b.op1('Reshape', [gate, b.int64('shape', [0, 1, 1, 1])]); // [B,1,1,1]
  let bracket = mod;
  if (p.spatial) bracket = b.op1('Add', [mod, emitSpatialExperts(b, p, d, sigma, expert)]);
  const y = b.op1('Add', [x, b.op1('Mul', [g4, bracket])]); // [B,C,H,W]
  return { y, expert, probs };
}

/** 'style+spatial': pw_k(dw_k((x - mu) / sigma)). Every expert runs on every sample (ONNX has no cheap
 *  per-sample dispatch); OneHot(k) picks each sample's result, so only expert k contributes. */
function emitSpatialExperts(b: OnnxGraphBuilder, p: SsmbBlockTensors, d: string, sigma: string, expert: string): string {
  const { channels: C, numExperts: N, tap } = p;
  const xn = b.op1('Div', [d, sigma]); // [B,C,H,W]
  const outs = p.spatial!.map(({ dw, pw }, k) => {
    checkShape(dw, [3, 3, C], `${tap} expert ${k} depthwise weight`);
    checkShape(pw, [C, C], `${tap} expert ${k} pointwise weight`);
    const dwO = new Float32Array(C * 9); // [C,1,3,3] <- [3,3,C]
    for (let c = 0; c < C; c++) for (let i = 0; i < 9; i++) dwO[c * 9 + i] = dw.data[i * C + c];
    const pwO = new Float32Array(C * C); // [O,I,1,1] <- [I,O]
    for (let i = 0; i < C; i++) for (let o = 0; o < C; o++) pwO[o * C + i] = pw.data[i * C + o];
    const h = b.op1('Conv', [xn, b.weight(`ssmb.${tap}.experts.${k}.dw.weight`, [C, 1, 3, 3], dwO)], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: C });
    const o = b.op1('Conv', [h, b.weight(`ssmb.${tap}.experts.${k}.pw.weight`, [C, C, 1, 1], pwO)], { kernel_shape: [1, 1] });
    return b.op1('Unsqueeze', [o, b.int64('axes', [1])]); // [B,1,C,H,W]
  });
  const stacked = outs.length === 1 ? outs[0] : b.op1('Concat', outs, { axis: 1 }); // [B,N,C,H,W]
  const onehot = b.op1('OneHot', [expert, b.int64('depth', [N], []), b.weight(`ssmb.${tap}.onehot_values`, [2], Float32Array.of(0, 1), true)], { axis: -1 }); // [B,N]
  const sel = b.op1('Reshape', [onehot, b.int64('shape', [0, N, 1, 1, 1])]); // [B,N,1,1,1]
  return b.op1('ReduceSum', [b.op1('Mul', [stacked, sel]), b.int64('axes', [1])], { keepdims: 0 }); // [B,C,H,W]
}
