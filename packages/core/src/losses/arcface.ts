// ArcFace additive angular margin loss (Deng et al.; insightface ArcMarginProduct) for backbone pre-training:
// logits = s * cos(theta_j), with the target class replaced by cos(theta_y + m).
// Without easy margin, where theta_y + m would pass pi (cos theta_y <= cos(pi - m)) the target logit becomes
// cos theta_y - m sin(m) so it stays monotonic; with easy margin the margin applies only where cos theta_y > 0.
import { tf } from '../tf.ts';
import { matMulT } from '../models/linear.ts';
import { l2Normalize } from './cosine.ts';

export interface ArcFaceOptions {
  scale?: number; // s, default 64
  margin?: number; // m (radians), default 0.5
  easyMargin?: boolean; // default false
}

/** embeddings [B,E], classWeights [E,K] (class centres, one column per identity), labels [B] -> logits [B,K]. */
export function arcfaceLogits(embeddings: tf.Tensor2D, classWeights: tf.Tensor2D, labels: tf.Tensor1D | number[], opts: ArcFaceOptions = {}): tf.Tensor2D {
  const { scale = 64, margin = 0.5, easyMargin = false } = opts;
  const [B, E] = embeddings.shape;
  if (embeddings.rank !== 2) throw new Error(`arcface: embeddings must be [B,E], received shape [${embeddings.shape}]`);
  if (classWeights.rank !== 2 || classWeights.shape[0] !== E) {
    throw new Error(`arcface: classWeights has shape [${classWeights.shape}]; expected [${E},numClasses]`);
  }
  const K = classWeights.shape[1];
  const len = Array.isArray(labels) ? labels.length : labels.size;
  if (len !== B) throw new Error(`arcface: labels has ${len} entries; expected ${B}`);
  return tf.tidy(() => {
    const lab = Array.isArray(labels) ? tf.tensor1d(labels, 'int32') : (tf.cast(labels, 'int32') as tf.Tensor1D);
    const cos = matMulT(l2Normalize(embeddings), tf.transpose(l2Normalize(tf.transpose(classWeights)))); // [B,K]
    const onehot = tf.oneHot(lab, K, 1, 0, 'float32'); // [B,K]
    const cosY = tf.sum(tf.mul(cos, onehot), 1); // [B]
    const sinY = tf.sqrt(tf.maximum(tf.sub(1, tf.square(cosY)), 1e-12)); // clamp keeps the gradient finite at |cos| = 1
    const phi = tf.sub(tf.mul(cosY, Math.cos(margin)), tf.mul(sinY, Math.sin(margin))); // cos(theta + m)
    // Branch masks via step (zero gradient; tf.greater has no gradient and would break the tape).
    const use = tf.step(tf.sub(cosY, easyMargin ? 0 : Math.cos(Math.PI - margin))); // 1 where the margin applies
    const fallback = easyMargin ? cosY : tf.sub(cosY, Math.sin(Math.PI - margin) * margin);
    const target = tf.add(tf.mul(use, phi), tf.mul(tf.sub(1, use), fallback));
    const mixed = tf.add(tf.mul(onehot, tf.reshape(target, [B, 1])), tf.mul(tf.sub(1, onehot), cos));
    return tf.mul(mixed, scale) as tf.Tensor2D;
  });
}

/** Mean softmax cross-entropy over the ArcFace logits. */
export function arcfaceLoss(embeddings: tf.Tensor2D, classWeights: tf.Tensor2D, labels: tf.Tensor1D | number[], opts: ArcFaceOptions = {}): tf.Scalar {
  return tf.tidy(() => {
    const logits = arcfaceLogits(embeddings, classWeights, labels, opts);
    const lab = Array.isArray(labels) ? tf.tensor1d(labels, 'int32') : (tf.cast(labels, 'int32') as tf.Tensor1D);
    const logp = tf.logSoftmax(logits); // [B,K]
    return tf.neg(tf.mean(tf.sum(tf.mul(logp, tf.oneHot(lab, logits.shape[1], 1, 0, 'float32')), 1))) as tf.Scalar;
  });
}
