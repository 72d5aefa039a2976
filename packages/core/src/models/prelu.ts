// PReLU with per-channel alpha [C] over the last axis, with a closed-form gradient for training:
//   dx = dy where x > 0 else alpha dy;   dalpha = sum over all but the last axis of dy * min(x, 0).
// tfjs's own PReLU gradient builds the alpha gradient with zerosLike/select and a sum over the leading
// axes (which transposes the whole map on wasm).
import { tf } from '../tf.ts';
import { channelSum } from './batch_norm.ts';

export function prelu<T extends tf.Tensor>(x: T, alpha: tf.Tensor1D): T {
  const c = x.shape[x.rank - 1];
  if (alpha.rank !== 1 || alpha.shape[0] !== c) throw new Error(`prelu: alpha has shape [${alpha.shape}]; expected [${c}] for x [${x.shape}]`);
  const op = tf.customGrad((xIn, aIn, save) => {
    (save as tf.GradSaveFunc)([xIn as tf.Tensor, aIn as tf.Tensor]);
    const value = tf.prelu(xIn as tf.Tensor, aIn as unknown as tf.Tensor);
    const gradFunc = (dy: tf.Tensor, [xs, as]: tf.Tensor[]) => [
      tf.where(tf.greater(xs, 0), dy, tf.mul(dy, as)),
      channelSum(tf.mul(dy, tf.minimum(xs, 0))),
    ];
    return { value, gradFunc };
  });
  return op(x, alpha) as T;
}
