// Conv (+ folded BN) helpers shared by the IResNet stem and blocks.
// Padding is explicit (3x3 -> 1, 1x1 -> 0) to match PyTorch: TF 'same' pads stride-2 convs on the
// bottom/right only, which would shift every pre-trained stride-2 conv by one pixel.
import { tf } from '../tf.ts';
import { bnScaleShift, type BatchNorm } from './batch_norm.ts';

export function convPad(w: tf.Tensor): number {
  return (w.shape[0] - 1) / 2; // [kh,kw,I,O], odd kh
}

/** True while a gradient tape records (inside tf.grads / variableGrads / optimizer.minimize). */
export function taping(): boolean {
  return tf.engine().state.gradientDepth > 0;
}

/** conv(x, W) followed by inference BN == conv(x, W * scale) + shift, exactly (BN is per output channel). */
export function foldConvBn(w: tf.Tensor4D, bn: BatchNorm): { w: tf.Tensor4D; b: tf.Tensor1D } {
  return tf.tidy(() => {
    const { scale, shift } = bnScaleShift(bn);
    return { w: tf.mul(w, scale) as tf.Tensor4D, b: shift }; // [kh,kw,I,O] * [O]
  });
}

/** Plain conv with PyTorch padding (training / unfolded paths). */
export function conv(x: tf.Tensor4D, w: tf.Tensor4D, stride: number): tf.Tensor4D {
  return tf.conv2d(x, w, stride, convPad(w));
}
