// Per-sample channel affine y = x * (1 + a) + b, x [B,H,W,C], a and b [B,1,1,C] (the SSMB output step).
// Custom gradient: the reductions for da and db run as global average pools, not as tf.sum over the
// broadcast axes (which transposes the full map on wasm).
import { tf } from '../tf.ts';
import { checkNHWC, spatialSum } from './spatial_sum.ts';

export function modulate(x: tf.Tensor4D, a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor4D {
  checkNHWC('modulate', x);
  const [B, , , C] = x.shape;
  for (const [n, t] of [['a', a], ['b', b]] as const) {
    if (t.rank !== 4 || t.shape[0] !== B || t.shape[1] !== 1 || t.shape[2] !== 1 || t.shape[3] !== C) {
      throw new Error(`modulate: ${n} has shape [${t.shape}]; expected [${B},1,1,${C}]`);
    }
  }
  const op = tf.customGrad((xIn, aIn, bIn, save) => {
    const scale = tf.add(aIn as tf.Tensor, 1);
    (save as tf.GradSaveFunc)([xIn as tf.Tensor, scale]);
    const value = tf.add(tf.mul(xIn as tf.Tensor, scale), bIn as tf.Tensor);
    const gradFunc = (dy: tf.Tensor, [xs, sc]: tf.Tensor[]) => [
      tf.mul(dy, sc),
      spatialSum(tf.mul(dy, xs) as tf.Tensor4D),
      spatialSum(dy as tf.Tensor4D),
    ];
    return { value, gradFunc };
  });
  return op(x, a, b) as tf.Tensor4D;
}
