// L_ts = mean[ 1 - c(S(v),T(v)) ] + mean over y=1 of [ 1 - c(S(t),T(v)) ]   (docs/design.md#losses)
// The second term is 0 when the batch has no genuine pair.
import { tf } from '../tf.ts';
import { checkPairs, rowCosine, type Labels } from './cosine.ts';

/** sv, st student embeddings [B,E]; tv teacher embedding of the VIS image [B,E] (a constant target). */
export function teacherStudentLoss(sv: tf.Tensor2D, st: tf.Tensor2D, tv: tf.Tensor2D, y: Labels): tf.Scalar {
  return tf.tidy(() => {
    const yt = checkPairs('teacherStudentLoss', { sv, st, tv }, y)!; // [B]
    const anchor = tf.mean(tf.sub(1, rowCosine(sv, tv)));
    const genuine = tf.div(tf.sum(tf.mul(yt, tf.sub(1, rowCosine(st, tv)))), tf.maximum(tf.sum(yt), 1));
    return tf.add(anchor, genuine) as tf.Scalar;
  });
}
