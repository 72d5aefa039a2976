// The SSMB training loss (docs/design.md#losses) as ONNX ops, so that one onnxruntime run computes the
// forward pass, the loss and every parameter gradient (the VJP of the loss is derived like the rest):
//   L_cc = mean[ y (1 - c(sv, st)) + (1 - y) max(0, c(sv, st) - m) ]
//   L_ts = mean[ 1 - c(sv, tv) ] + sum[ y (1 - c(st, tv)) ] / max(sum y, 1)
//   L_lb = mean over blocks of N sum_i f_i P_i     (f_i from OneHot(argmax): no gradient)
//   L    = L_cc + lambda_ts L_ts + alpha L_lb
// Written as core/losses writes them in tfjs (cosine = dot * rsqrt(max(|a|^2 |b|^2, 1e-24))), so both
// engines compute the same function.
import type { OnnxGraphBuilder } from '../weights/onnx/onnx_graph_builder.ts';

export interface LossWeights {
  margin: number;
  lambdaTs: number;
  alpha: number;
}

export interface LossValues {
  total: string; // scalar
  cc: string;
  ts: string;
  lb: string;
}

export interface BlockRoutingValues {
  probs: string; // [2B,N]
  expert: string; // int64 [2B]
  numExperts: number;
}

function rowCosine(b: OnnxGraphBuilder, x: string, y: string): string {
  const axes = () => b.int64('axes', [1]);
  const dot = b.op1('ReduceSum', [b.op1('Mul', [x, y]), axes()], { keepdims: 0 }); // [B]
  const nx = b.op1('ReduceSumSquare', [x], { axes: [1], keepdims: 0 }); // [B]
  const ny = b.op1('ReduceSumSquare', [y], { axes: [1], keepdims: 0 }); // [B]
  return b.op1('Div', [dot, b.op1('Sqrt', [b.op1('Max', [b.op1('Mul', [nx, ny]), b.scalar('tiny', 1e-24)])])]); // [B]
}

/** emb [2B,E] (anchors first, then partners), labels [B] (1 = same identity), teacher [B,E] = T(v). */
export function emitSsmbLoss(b: OnnxGraphBuilder, emb: string, labels: string, teacher: string, pairs: number, routings: BlockRoutingValues[], w: LossWeights): LossValues {
  if (routings.length === 0) throw new Error('emitSsmbLoss: no SSMB blocks; expected at least one routing');
  const [sv, st] = b.op('Split', [emb, b.int64('split', [pairs, pairs])], { axis: 0 }, 2); // [B,E] x2
  const one = b.scalar('one', 1);
  const mean = (v: string) => b.op1('ReduceMean', [v], { keepdims: 0 }); // scalar
  const sum = (v: string) => b.op1('ReduceSum', [v], { keepdims: 0 }); // scalar

  const c = rowCosine(b, sv, st); // [B]
  const pos = b.op1('Mul', [labels, b.op1('Sub', [one, c])]);
  const neg = b.op1('Mul', [b.op1('Sub', [one, labels]), b.op1('Relu', [b.op1('Sub', [c, b.scalar('margin', w.margin)])])]);
  const cc = mean(b.op1('Add', [pos, neg]));

  const anchor = mean(b.op1('Sub', [one, rowCosine(b, sv, teacher)]));
  const genuine = b.op1('Div', [sum(b.op1('Mul', [labels, b.op1('Sub', [one, rowCosine(b, st, teacher)])])), b.op1('Max', [sum(labels), one])]);
  const ts = b.op1('Add', [anchor, genuine]);

  const perBlock = routings.map((r) => {
    const N = r.numExperts;
    const P = b.op1('ReduceMean', [r.probs], { axes: [0], keepdims: 0 }); // [N]
    if (N === 1) return b.op1('ReduceSum', [P], { keepdims: 0 }); // f = [1]: N sum f P = P (= 1)
    const onehot = b.op1('OneHot', [r.expert, b.int64('depth', [N], []), b.constant('onehot_values', [2], Float32Array.of(0, 1))], { axis: -1 }); // [2B,N]
    const f = b.op1('ReduceMean', [onehot], { axes: [0], keepdims: 0 }); // [N] share routed to each expert
    return b.op1('Mul', [b.scalar('n', N), sum(b.op1('Mul', [f, P]))]);
  });
  const lb = b.op1('Mul', [perBlock.length === 1 ? perBlock[0] : b.op1('Sum', perBlock), b.scalar('inv_blocks', 1 / routings.length)]);
  const total = b.op1('Add', [b.op1('Add', [cc, b.op1('Mul', [ts, b.scalar('lambda_ts', w.lambdaTs)])]), b.op1('Mul', [lb, b.scalar('alpha', w.alpha)])]);
  return { total, cc, ts, lb };
}
