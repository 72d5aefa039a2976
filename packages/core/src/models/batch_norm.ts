// BatchNorm over the last (channel) axis, PyTorch semantics: eps 1e-5, momentum 0.1, running_var updated
// with the unbiased batch variance, normalisation with the biased one.
import { tf } from '../tf.ts';
import type { ParamStore } from './param_store.ts';

export const BN_EPS = 1e-5;
export const BN_MOMENTUM = 0.1;

export interface BatchNorm {
  weight: tf.Variable; // [C] (gamma)
  bias: tf.Variable; // [C] (beta)
  runningMean: tf.Variable; // [C]
  runningVar: tf.Variable; // [C]
}

/** Creates `<name>.weight|bias|running_mean|running_var`. `frozenWeight` keeps weight at 1, untrainable
 *  (insightface's `features` BatchNorm1d sets weight = 1 and requires_grad = False). */
export function createBatchNorm(store: ParamStore, name: string, channels: number, frozenWeight = false): BatchNorm {
  return {
    weight: store.fill(`${name}.weight`, [channels], 1, !frozenWeight),
    bias: store.fill(`${name}.bias`, [channels], 0),
    runningMean: store.fill(`${name}.running_mean`, [channels], 0, false),
    runningVar: store.fill(`${name}.running_var`, [channels], 1, false),
  };
}

/** Per-channel affine equivalent of inference-mode BN: y = x * scale + shift. Differentiable wrt weight/bias. */
export function bnScaleShift(bn: BatchNorm): { scale: tf.Tensor1D; shift: tf.Tensor1D } {
  return tf.tidy(() => {
    const scale = tf.mul(bn.weight, tf.rsqrt(tf.add(bn.runningVar, BN_EPS))) as tf.Tensor1D; // [C]
    const shift = tf.sub(bn.bias, tf.mul(bn.runningMean, scale)) as tf.Tensor1D; // [C]
    return { scale, shift };
  });
}

/** Inference-mode BN computed from the variables (used when the model is trainable, so gradients reach them). */
export function batchNormInference<T extends tf.Tensor>(x: T, bn: BatchNorm): T {
  return tf.tidy(() => {
    const { scale, shift } = bnScaleShift(bn);
    return tf.add(tf.mul(x, scale), shift) as T;
  });
}

/** Per-channel sum over every axis but the last. For NHWC maps a global average pool does the big
 *  reduction (on wasm tf.sum over leading axes transposes the whole map, and a ones-matmul repacks it). */
export function channelSum(x: tf.Tensor): tf.Tensor1D {
  if (x.rank !== 4) return tf.sum(x, x.shape.slice(0, -1).map((_, i) => i)) as tf.Tensor1D;
  const [, H, W] = x.shape;
  return tf.mul(tf.sum(tf.avgPool(x as tf.Tensor4D, [H, W], [H, W], 'valid'), [0, 1, 2]), H * W) as tf.Tensor1D;
}

/**
 * Training-mode BN: normalises with the batch statistics over every axis but the last and updates the
 * running statistics. Closed-form custom gradient (autodiff through moments costs several extra full-size
 * ops per layer):  xc = x - mean, k1 = w / sigma,
 *   dx = k1 (dy - S1/N - xc S2 / (N sigma^2)),  dw = S2 / sigma,  db = S1,  S1 = sum dy, S2 = sum dy xc.
 */
export function batchNormTraining<T extends tf.Tensor>(x: T, bn: BatchNorm, momentum = BN_MOMENTUM): T {
  const c = x.shape[x.rank - 1];
  const n = x.size / c;
  if (n < 2) throw new Error(`batchNormTraining: need more than one value per channel, got input shape [${x.shape}]`);
  const op = tf.customGrad((xIn, w, b, save) => {
    const mean = tf.div(channelSum(xIn as tf.Tensor), n); // [C]
    const xc = tf.sub(xIn as tf.Tensor, mean); // like x
    const variance = tf.div(channelSum(tf.square(xc)), n); // [C] biased
    const invStd = tf.rsqrt(tf.add(variance, BN_EPS)); // [C]
    const k1 = tf.mul(w as tf.Tensor, invStd); // [C]
    tf.tidy(() => {
      bn.runningMean.assign(tf.add(tf.mul(bn.runningMean, 1 - momentum), tf.mul(mean, momentum)));
      const unbiased = tf.mul(variance, n / (n - 1));
      bn.runningVar.assign(tf.add(tf.mul(bn.runningVar, 1 - momentum), tf.mul(unbiased, momentum)));
    });
    (save as tf.GradSaveFunc)([xc, invStd, k1]);
    const value = tf.add(tf.mul(xc, k1), b as tf.Tensor);
    const gradFunc = (dy: tf.Tensor, [xcS, is, k]: tf.Tensor[]) => {
      const s1 = channelSum(dy); // [C]
      const s2 = channelSum(tf.mul(dy, xcS)); // [C]
      const kx = tf.neg(tf.mul(tf.mul(k, tf.square(is)), tf.div(s2, n))); // [C]
      const k0 = tf.neg(tf.mul(k, tf.div(s1, n))); // [C]
      const dx = tf.add(tf.mul(dy, k), tf.add(tf.mul(xcS, kx), k0));
      return [dx, tf.mul(s2, is), s1];
    };
    return { value, gradFunc };
  });
  return op(x, bn.weight, bn.bias) as T;
}
