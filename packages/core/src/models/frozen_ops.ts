// Frozen (inference-weight) conv layers as single ops for the pre-trained families (dlib ResNet-29,
// faceres MobileNet): the forward is one fused kernel (conv or depthwise conv + bias + activation), and
// under a gradient tape (the SSMB student needs dx through the frozen backbone) the hand-written input
// gradient saves only the output (the activation mask) and never computes filter gradients. Backward =
// Conv2DBackpropInput / DepthwiseConv2dNativeBackpropInput (both have wasm kernels of ours) on the masked dy.
import { tf } from '../tf.ts';

export type Activation = 'relu' | 'relu6' | 'linear';
export type ConvPad = 'same' | 'valid';

export interface FrozenConvOptions {
  strides: number;
  pad: ConvPad;
  act: Activation;
  depthwise?: boolean;
}

/** dy where the activation passes the gradient, from its output y (relu: y > 0; relu6: 0 < y < 6). */
function activationMask(dy: tf.Tensor, y: tf.Tensor, act: Activation): tf.Tensor {
  if (act === 'linear') return dy;
  const open = act === 'relu' ? tf.greater(y, 0) : tf.logicalAnd(tf.greater(y, 0), tf.less(y, 6));
  return tf.where(open, dy, tf.zerosLike(dy));
}

/** dx of a (depthwise) conv with filter `w` for the forward input shape. */
export function convInputGrad(dy: tf.Tensor4D, w: tf.Tensor4D, xShape: [number, number, number, number], o: Omit<FrozenConvOptions, 'act'>): tf.Tensor4D {
  if (o.depthwise) {
    return tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: w },
      { strides: o.strides, pad: o.pad, dilations: 1, inputShape: xShape }) as tf.Tensor4D;
  }
  return tf.conv2dTranspose(dy, w, xShape, o.strides, o.pad);
}

/** act(conv(x, w) + b) with constant w, b: fused forward, input-only gradient. */
export function frozenConv(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D, o: FrozenConvOptions): tf.Tensor4D {
  const xShape = x.shape;
  const op = tf.customGrad((xIn, save) => {
    const activation = o.act === 'linear' ? undefined : o.act;
    const args = { x: xIn as tf.Tensor4D, filter: w, strides: o.strides, pad: o.pad, bias: b, activation } as const;
    const y = o.depthwise ? tf.fused.depthwiseConv2d(args) : tf.fused.conv2d(args);
    (save as tf.GradSaveFunc)(o.act === 'linear' ? [] : [y]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) =>
      [convInputGrad(activationMask(dy, saved[0], o.act) as tf.Tensor4D, w, xShape, o)];
    return { value: y, gradFunc };
  });
  return op(x) as tf.Tensor4D;
}

/** act(conv(x, w) + b) computed from (trainable) variables with plain ops, for training mode. */
export function plainConv(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D, o: FrozenConvOptions): tf.Tensor4D {
  const z = o.depthwise ? tf.depthwiseConv2d(x, w, o.strides, o.pad) : tf.conv2d(x, w, o.strides, o.pad);
  const zb = tf.add(z, b) as tf.Tensor4D;
  return o.act === 'relu' ? tf.relu(zb) : o.act === 'relu6' ? tf.relu6(zb) : zb;
}

/** TF 'same' padding along one axis: [before, after] (TF puts the odd pixel after). */
export function samePads(inSize: number, k: number, stride: number): [number, number] {
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + k - inSize, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** Output side of a conv / pool along one axis. */
export function convOut(inSize: number, k: number, stride: number, pad: ConvPad): number {
  return pad === 'same' ? Math.ceil(inSize / stride) : Math.floor((inSize - k) / stride) + 1;
}
