// Instance statistics of x [B,H,W,C] over H,W: mean and biased variance, as one op -> { mu, variance } [B,1,1,C].
// Forward: two global average pools (fast NHWC reductions). Backward, in closed form with one fused
// affine pass: dx = dmu / HW + 2 (x - mu) dvar / HW  =  x * k + (dmu / HW - mu * k),  k = 2 dvar / HW.
// (wasm: tf.moments transposes the map for each reduction, AvgPoolGrad is very slow.)
import { tf } from '../tf.ts';
import { checkNHWC } from './spatial_sum.ts';

export function instanceStats(x: tf.Tensor4D): { mu: tf.Tensor4D; variance: tf.Tensor4D } {
  checkNHWC('instanceStats', x);
  const [B, H, W, C] = x.shape;
  const hw = H * W;
  const op = tf.customGrad((xIn, save) => {
    const xs = xIn as tf.Tensor4D;
    const mu = tf.avgPool(xs, [H, W], [H, W], 'valid'); // [B,1,1,C]
    const variance = tf.avgPool(tf.squaredDifference(xs, mu) as tf.Tensor4D, [H, W], [H, W], 'valid');
    (save as tf.GradSaveFunc)([xs, mu]);
    const value = tf.concat([mu, variance], 3); // [B,1,1,2C]
    const gradFunc = (dy: tf.Tensor, [xSaved, muSaved]: tf.Tensor[]) => {
      const dmu = tf.slice(dy, [0, 0, 0, 0], [B, 1, 1, C]);
      const k = tf.mul(tf.slice(dy, [0, 0, 0, C], [B, 1, 1, C]), 2 / hw);
      return [tf.add(tf.mul(xSaved, k), tf.sub(tf.div(dmu, hw), tf.mul(muSaved, k)))];
    };
    return { value, gradFunc };
  });
  const both = op(x) as tf.Tensor4D;
  return { mu: tf.slice(both, [0, 0, 0, 0], [B, 1, 1, C]), variance: tf.slice(both, [0, 0, 0, C], [B, 1, 1, C]) };
}
