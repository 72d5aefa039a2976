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

/**
 * Training-mode BN: normalises with the batch statistics over every axis but the last and updates the
 * running statistics. A custom gradient (the closed-form BN backward) replaces autodiff through moments,
 * which would cost several extra full-size ops per layer.
 */
export function batchNormTraining<T extends tf.Tensor>(x: T, bn: BatchNorm, momentum = BN_MOMENTUM): T {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const n = x.size / x.shape[x.rank - 1];
  if (n < 2) throw new Error(`batchNormTraining: need more than one value per channel, got input shape [${x.shape}]`);
  const op = tf.customGrad((xIn, w, b, save) => {
    const { mean, variance } = tf.moments(xIn as tf.Tensor, axes); // [C], [C] (biased)
    const invStd = tf.rsqrt(tf.add(variance, BN_EPS)); // [C]
    const xhat = tf.mul(tf.sub(xIn as tf.Tensor, mean), invStd); // like x
    tf.tidy(() => {
      bn.runningMean.assign(tf.add(tf.mul(bn.runningMean, 1 - momentum), tf.mul(mean, momentum)));
      const unbiased = tf.mul(variance, n / (n - 1));
      bn.runningVar.assign(tf.add(tf.mul(bn.runningVar, 1 - momentum), tf.mul(unbiased, momentum)));
    });
    (save as tf.GradSaveFunc)([xhat, invStd, w as tf.Tensor]);
    const value = tf.add(tf.mul(xhat, w as tf.Tensor), b as tf.Tensor);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xh, is, wS] = saved;
      const dxhat = tf.mul(dy, wS);
      const dx = tf.mul(
        tf.sub(tf.sub(dxhat, tf.mean(dxhat, axes)), tf.mul(xh, tf.mean(tf.mul(dxhat, xh), axes))),
        is,
      );
      return [dx, tf.sum(tf.mul(dy, xh), axes), tf.sum(dy, axes)];
    };
    return { value, gradFunc };
  });
  return op(x, bn.weight, bn.bias) as T;
}
