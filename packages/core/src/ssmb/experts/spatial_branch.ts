// The spatial branch of the `*+spatial` expert kinds: expert k adds pw_k(dw_k(xn)) inside the bracket,
// xn = (x - mu) / sigma the instance-normalised map, dw_k a depthwise 3x3 (padding 1) and pw_k a pointwise
// 1x1 conv. dw_k starts random and pw_k at zero: the branch starts at 0 (the block is the identity) and both
// layers still receive gradient. Each expert has its own tensors (experts.<k>.dw.weight [3,3,C],
// experts.<k>.pw.weight [C,C], our layouts), so in tfjs expert k runs only on the samples routed to it.
import { tf } from '../../tf.ts';
import type { ExpertDims, ExpertParamSpec, SpatialBranch } from '../expert_kind.ts';

export function spatialParams({ channels: C, numExperts: N }: ExpertDims): ExpertParamSpec[] {
  return Array.from({ length: N }, (_, k): ExpertParamSpec[] => [
    { key: `experts.${k}.dw.weight`, shape: [3, 3, C], init: { type: 'normal', std: Math.sqrt(2 / 9) }, expert: k },
    { key: `experts.${k}.pw.weight`, shape: [C, C], init: { type: 'zeros' }, expert: k },
  ]).flat();
}

/** tfjs: the depthwise 3x3 as 9 shifted multiply-adds (wasm has no fast depthwise gradient kernels at
 *  these sizes), the pointwise 1x1 as one matmul. xn [n,H,W,C] -> [n,H,W,C]. */
function apply(xn: tf.Tensor4D, k: number, param: (key: string) => tf.Tensor): tf.Tensor4D {
  const [n, H, W, C] = xn.shape;
  const padded = tf.pad(xn, [[0, 0], [1, 1], [1, 1], [0, 0]]); // [n,H+2,W+2,C]
  const dw = param(`experts.${k}.dw.weight`); // [3,3,C]
  let acc: tf.Tensor | undefined;
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      const term = tf.mul(tf.slice(padded, [0, i, j, 0], [n, H, W, C]), tf.reshape(tf.slice(dw, [i, j, 0], [1, 1, C]), [C]));
      acc = acc ? tf.add(acc, term) : term;
    }
  }
  return tf.reshape(tf.matMul(tf.reshape(acc!, [n * H * W, C]), param(`experts.${k}.pw.weight`) as tf.Tensor2D), [n, H, W, C]) as tf.Tensor4D;
}

/** ONNX on NCHW xn [B,C,H,W]: layout changes ([3,3,C] -> [C,1,3,3], [I,O] -> [O,I,1,1]) are graph nodes, so
 *  the same emission serves initializers (folded by onnxruntime) and graph inputs (differentiated). */
function emit(b: Parameters<SpatialBranch['emit']>[0], xn: string, k: number, dims: ExpertDims, param: (key: string) => string, hint: string): string {
  const C = dims.channels;
  const dw = b.op1('Reshape', [b.op1('Transpose', [param(`experts.${k}.dw.weight`)], { perm: [2, 0, 1] }), b.int64(`${hint}_shape`, [C, 1, 3, 3])]);
  const pw = b.op1('Reshape', [b.op1('Transpose', [param(`experts.${k}.pw.weight`)], { perm: [1, 0] }), b.int64(`${hint}_shape`, [C, C, 1, 1])]);
  const h = b.op1('Conv', [xn, dw], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: C }); // [B,C,H,W]
  return b.op1('Conv', [h, pw], { kernel_shape: [1, 1] }); // [B,C,H,W]
}

export const SPATIAL_BRANCH: SpatialBranch = { apply, emit };
