// Frozen (folded) IResNet pieces as single ops: the forward uses the fused inference kernels (conv + bias
// + PReLU in one), and under a gradient tape (the HFR student: SSMB parameters upstream need dx through the
// frozen backbone) the hand-written input gradient saves one tensor per op instead of tfjs cloning every
// op's inputs (a full copy each on wasm), and never computes filter gradients (fused conv's own gradient
// always does). Backward = conv2dTranspose (Conv2DBackpropInput) plus the PReLU mask.
import { tf } from '../tf.ts';
import { convPad } from './conv_bn.ts';

/** PReLU input gradient from a tensor whose sign is the pre-activation's sign. */
function preluDx(dy: tf.Tensor, signRef: tf.Tensor, alpha: tf.Tensor): tf.Tensor {
  return tf.where(tf.greater(signRef, 0), dy, tf.mul(dy, alpha));
}

/** PReLU(conv(x, w, stride) + b). With every alpha > 0 the output's sign is the pre-activation's sign,
 *  so the fused kernel's output is saved for the mask; otherwise the pre-activation is kept. */
function convPreluForward(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D, alpha: tf.Tensor1D, alphaPositive: boolean, stride: number) {
  const pad = convPad(w);
  if (alphaPositive) {
    const y = tf.fused.conv2d({ x, filter: w, strides: stride, pad, bias: b, activation: 'prelu', preluActivationWeights: alpha });
    return { y, signRef: y };
  }
  const z = tf.fused.conv2d({ x, filter: w, strides: stride, pad, bias: b });
  return { y: tf.prelu(z, alpha as unknown as tf.Tensor4D), signRef: z };
}

export function frozenConvPrelu(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D, alpha: tf.Tensor1D, alphaPositive: boolean, stride: number): tf.Tensor4D {
  const op = tf.customGrad((xIn, save) => {
    const { y, signRef } = convPreluForward(xIn as tf.Tensor4D, w, b, alpha, alphaPositive, stride);
    (save as tf.GradSaveFunc)([signRef]);
    const gradFunc = (dy: tf.Tensor, [s]: tf.Tensor[]) =>
      [tf.conv2dTranspose(preluDx(dy, s, alpha) as tf.Tensor4D, w, x.shape, stride, convPad(w))];
    return { value: y, gradFunc };
  });
  return op(x) as tf.Tensor4D;
}

export interface FrozenBlockWeights {
  s1: tf.Tensor1D; t1: tf.Tensor1D; w1: tf.Tensor4D; b1: tf.Tensor1D; w2: tf.Tensor4D; b2: tf.Tensor1D;
  dw?: tf.Tensor4D; db?: tf.Tensor1D;
}

/** Folded IBasicBlock: (x s1 + t1) -> conv1+b1 -> PReLU -> conv2(stride)+b2, + shortcut (folded 1x1 conv or x). */
export function frozenBlock(x: tf.Tensor4D, f: FrozenBlockWeights, alpha: tf.Tensor1D, alphaPositive: boolean, stride: number): tf.Tensor4D {
  const op = tf.customGrad((xIn, save) => {
    const xs = xIn as tf.Tensor4D;
    const o1 = tf.add(tf.mul(xs, f.s1), f.t1) as tf.Tensor4D; // [B,H,W,Cin]
    const { y: y1, signRef } = convPreluForward(o1, f.w1, f.b1, alpha, alphaPositive, 1); // [B,H,W,Cout]
    const z2 = tf.fused.conv2d({ x: y1, filter: f.w2, strides: stride, pad: 1, bias: f.b2 }); // [B,H/s,W/s,Cout]
    const id = f.dw ? tf.fused.conv2d({ x: xs, filter: f.dw, strides: stride, pad: 0, bias: f.db }) : xs;
    (save as tf.GradSaveFunc)([signRef]);
    const gradFunc = (dy: tf.Tensor, [s]: tf.Tensor[]) => {
      const dy1 = tf.conv2dTranspose(dy as tf.Tensor4D, f.w2, s.shape as [number, number, number, number], stride, 1);
      const do1 = tf.conv2dTranspose(preluDx(dy1, s, alpha) as tf.Tensor4D, f.w1, [x.shape[0], x.shape[1], x.shape[2], x.shape[3]], 1, 1);
      const dShort = f.dw ? tf.conv2dTranspose(dy as tf.Tensor4D, f.dw, x.shape, stride, 0) : dy;
      return [tf.add(tf.mul(do1, f.s1), dShort)];
    };
    return { value: tf.add(z2, id), gradFunc };
  });
  return op(x) as tf.Tensor4D;
}
