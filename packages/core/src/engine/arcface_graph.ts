// The ArcFace pre-training loss as ONNX nodes, op for op the tfjs reference (losses/arcface.ts):
//   cos = normalize(emb) normalize_cols(W), target = cos(theta_y + m) where the margin applies (tf.step
//   mask on cos_y - threshold) else the fallback, logits = s * mix, loss = -mean(sum(onehot * LogSoftmax)).
// The same clamps (1e-24 in the norms, 1e-12 under the sine's square root) keep values and gradients equal.
import type { OnnxGraphBuilder } from '../weights/onnx/onnx_graph_builder.ts';

export interface ArcFaceGraphOptions {
  batch: number;
  numClasses: number;
  scale: number;
  margin: number;
  easyMargin?: boolean;
}

/** emb [B,E], weight [E,K] (class centres as columns), labels int64 [B] -> scalar loss value. */
export function emitArcFaceLoss(b: OnnxGraphBuilder, emb: string, weight: string, labels: string, o: ArcFaceGraphOptions): string {
  const { batch: B, numClasses: K, scale, margin } = o;
  const easy = o.easyMargin ?? false;
  const one = b.scalar('one', 1);
  const sumAxis = (v: string, axis: number, keep: 0 | 1) => b.op1('ReduceSum', [v, b.int64('axes', [axis])], { keepdims: keep });
  // l2Normalize: x * rsqrt(max(sum x^2, 1e-24)) along `axis`
  const normalize = (v: string, axis: number) => {
    const n = b.op1('Max', [sumAxis(b.op1('Mul', [v, v]), axis, 1), b.scalar('norm_floor', 1e-24)]);
    return b.op1('Mul', [v, b.op1('Div', [one, b.op1('Sqrt', [n])])]);
  };
  const cos = b.op1('MatMul', [normalize(emb, 1), normalize(weight, 0)]); // [B,K]
  const onehot = b.op1('OneHot', [labels, b.int64('depth', [K], []), b.constant('onehot_values', [2], Float32Array.of(0, 1))], { axis: -1 }); // [B,K]
  const cosY = sumAxis(b.op1('Mul', [cos, onehot]), 1, 0); // [B]
  const sinY = b.op1('Sqrt', [b.op1('Max', [b.op1('Sub', [one, b.op1('Mul', [cosY, cosY])]), b.scalar('sin_floor', 1e-12)])]); // [B]
  const phi = b.op1('Sub', [b.op1('Mul', [cosY, b.scalar('cos_m', Math.cos(margin))]), b.op1('Mul', [sinY, b.scalar('sin_m', Math.sin(margin))])]); // [B]
  // tf.step(x) = 1 where x > 0: a mask without gradient, as in tfjs
  const threshold = easy ? 0 : Math.cos(Math.PI - margin);
  const use = b.op1('Cast', [b.op1('Greater', [b.op1('Sub', [cosY, b.scalar('threshold', threshold)]), b.scalar('zero', 0)])], { to: 1 }); // [B]
  const fallback = easy ? cosY : b.op1('Sub', [cosY, b.scalar('mm', Math.sin(Math.PI - margin) * margin)]); // [B]
  const target = b.op1('Add', [b.op1('Mul', [use, phi]), b.op1('Mul', [b.op1('Sub', [one, use]), fallback])]); // [B]
  const mixed = b.op1('Add', [
    b.op1('Mul', [onehot, b.op1('Reshape', [target, b.int64('shape', [B, 1])])]),
    b.op1('Mul', [b.op1('Sub', [one, onehot]), cos]),
  ]); // [B,K]
  const logits = b.op1('Mul', [mixed, b.scalar('scale', scale)]); // [B,K]
  const logp = b.op1('LogSoftmax', [logits], { axis: 1 }); // [B,K]
  return b.op1('Neg', [b.op1('ReduceMean', [sumAxis(b.op1('Mul', [logp, onehot]), 1, 0)], { keepdims: 0 })]); // scalar
}
