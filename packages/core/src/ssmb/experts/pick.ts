// Per-sample expert parameters as an exact one-hot product (docs/design.md#the-ssmb-block): for selection rows
// sel [B,N] of exact 0s and 1s, sel @ W (experts stacked on W's first axis) is exactly expert k's W_k for
// each sample (every other term is an exact 0 * w), so only the chosen expert's parameters touch a sample
// and only chosen experts receive gradient. The same formulation in tfjs and ONNX (where its gradient is
// two MatMuls in the onnxruntime engine's op table); TopK and Gather-by-index are not needed.
import { tf } from '../../tf.ts';
import type { OnnxGraphBuilder } from '../../weights/onnx/onnx_graph_builder.ts';

/** sel [B,N] @ stacked [N,rows,cols] -> per-sample [B,rows,cols] */
export function pickTf(sel: tf.Tensor2D, stacked: tf.Tensor, rows: number, cols: number): tf.Tensor3D {
  const [B, N] = sel.shape;
  return tf.reshape(tf.matMul(sel, tf.reshape(stacked, [N, rows * cols])), [B, rows, cols]) as tf.Tensor3D;
}

/** sel [B,N] @ stacked rows [N,K] -> [B,K] */
export function pickRowsTf(sel: tf.Tensor2D, stacked: tf.Tensor): tf.Tensor2D {
  return tf.matMul(sel, stacked as tf.Tensor2D);
}

/** ONNX form of pickTf: Reshape(MatMul(sel, Reshape(W, [N, rows*cols])), [B, rows, cols]) */
export function pickOnnx(b: OnnxGraphBuilder, sel: string, stacked: string, numExperts: number, rows: number, cols: number, hint: string): string {
  const flat = b.op1('Reshape', [stacked, b.int64(`${hint}_shape`, [numExperts, rows * cols])]); // [N,rows*cols]
  return b.op1('Reshape', [b.op1('MatMul', [sel, flat]), b.int64(`${hint}_shape`, [0, rows, cols])]); // [B,rows,cols]
}

/** ONNX form of pickRowsTf: MatMul(sel, W) [B,K] */
export function pickRowsOnnx(b: OnnxGraphBuilder, sel: string, stacked: string): string {
  return b.op1('MatMul', [sel, stacked]);
}
