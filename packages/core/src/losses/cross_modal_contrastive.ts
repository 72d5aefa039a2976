// L_cc = mean[ y (1 - c(S(v),S(t))) + (1 - y) max(0, c(S(v),S(t)) - m) ]   (docs/design.md#losses, m = loss.margin, 0 by default)
import { tf } from '../tf.ts';
import { checkPairs, rowCosine, type Labels } from './cosine.ts';

/** sv, st [B,E] student embeddings of the VIS and the other image of each pair; y [B] 1 = same identity. */
export function crossModalContrastiveLoss(sv: tf.Tensor2D, st: tf.Tensor2D, y: Labels, margin = 0): tf.Scalar {
  return tf.tidy(() => {
    const yt = checkPairs('crossModalContrastiveLoss', { sv, st }, y)!; // [B]
    const c = rowCosine(sv, st); // [B]
    const pos = tf.mul(yt, tf.sub(1, c));
    const neg = tf.mul(tf.sub(1, yt), tf.relu(tf.sub(c, margin)));
    return tf.mean(tf.add(pos, neg)) as tf.Scalar;
  });
}
