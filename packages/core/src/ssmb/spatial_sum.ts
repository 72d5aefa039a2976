// Spatial (H,W) reduction helpers for NHWC maps. A global average pool is the fast per-sample, per-channel
// reduction: on wasm, tf.sum / tf.mean over non-innermost axes transpose the full map first.
import { tf } from '../tf.ts';

export function checkNHWC(fn: string, x: tf.Tensor): void {
  if (x.rank !== 4) throw new Error(`${fn}: x must be rank 4 [B,H,W,C], received shape [${x.shape}]`);
}

/** sum over H,W as HW * global average pool (fast NHWC reduction on every backend). */
export function spatialSum(x: tf.Tensor4D): tf.Tensor4D {
  const [, H, W] = x.shape;
  return tf.mul(tf.avgPool(x, [H, W], [H, W], 'valid'), H * W);
}
