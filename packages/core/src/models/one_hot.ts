// Float one-hot rows. tfjs-backend-wasm 4.22's OneHot ignores a float32 dtype and writes int32 bit
// patterns (1 -> 1.4e-45), so build it as int32 and cast.
import { tf } from '../tf.ts';

export function oneHotFloat(indices: tf.Tensor1D, depth: number): tf.Tensor2D {
  return tf.tidy(() => tf.cast(tf.oneHot(tf.cast(indices, 'int32') as tf.Tensor1D, depth), 'float32') as tf.Tensor2D);
}
