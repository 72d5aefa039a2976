// Matrix products with hand-written gradients that transpose explicitly: on wasm a matMul with
// transposeA / transposeB (what tfjs's MatMul gradient uses) is ~5-15x slower than tf.transpose + matMul.
import { tf } from '../tf.ts';

function check(fn: string, a: tf.Tensor, b: tf.Tensor): void {
  if (a.rank !== 2 || b.rank !== 2 || a.shape[1] !== b.shape[0]) {
    throw new Error(`${fn}: expected a [M,K] and b [K,N], received [${a.shape}] and [${b.shape}]`);
  }
}

/** a [M,K] @ b [K,N] -> [M,N], gradients for both inputs. */
export function matMulT(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  check('matMulT', a, b);
  const op = tf.customGrad((aIn, bIn, save) => {
    (save as tf.GradSaveFunc)([aIn as tf.Tensor, bIn as tf.Tensor]);
    const gradFunc = (dy: tf.Tensor, [as, bs]: tf.Tensor[]) => [
      tf.matMul(dy as tf.Tensor2D, tf.transpose(bs as tf.Tensor2D)), // [M,K]
      tf.matMul(tf.transpose(as as tf.Tensor2D), dy as tf.Tensor2D), // [K,N]
    ];
    return { value: tf.matMul(aIn as tf.Tensor2D, bIn as tf.Tensor2D), gradFunc };
  });
  return op(a, b) as tf.Tensor2D;
}

/** a [M,K] @ w [K,N] + bias with a constant (frozen) w whose transpose wT [N,K] is precomputed; gradient
 *  for a only. Outside a gradient tape this is one fused matmul. */
export function frozenLinear(a: tf.Tensor2D, w: tf.Tensor2D, wT: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  check('frozenLinear', a, w);
  const op = tf.customGrad((aIn, save) => {
    (save as tf.GradSaveFunc)([]);
    const value = tf.fused.matMul({ a: aIn as tf.Tensor2D, b: w, bias });
    return { value, gradFunc: (dy: tf.Tensor) => [tf.matMul(dy as tf.Tensor2D, wT)] };
  });
  return op(a) as tf.Tensor2D;
}
