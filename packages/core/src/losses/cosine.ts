// Row-wise cosine similarity of L2-normalised embeddings, shared by the HFR losses.
import { tf } from '../tf.ts';

/** a, b [B,E] -> [B] cosine similarity (rows are L2-normalised; a zero row gives 0, not NaN). */
export function rowCosine(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const dot = tf.sum(tf.mul(a, b), 1); // [B]
    const na = tf.sum(tf.square(a), 1);
    const nb = tf.sum(tf.square(b), 1);
    return tf.mul(dot, tf.rsqrt(tf.maximum(tf.mul(na, nb), 1e-24))) as tf.Tensor1D;
  });
}

export function l2Normalize(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.mul(x, tf.rsqrt(tf.maximum(tf.sum(tf.square(x), 1, true), 1e-24))) as tf.Tensor2D);
}

export type Labels = tf.Tensor1D | number[];

/** Validates that a and b are [B,E] alike and labels has B entries; returns labels as a float tensor. */
export function checkPairs(fn: string, named: Record<string, tf.Tensor>, labels?: Labels, labelName = 'y'): tf.Tensor1D | undefined {
  const entries = Object.entries(named);
  const [n0, t0] = entries[0];
  for (const [n, t] of entries) {
    if (t.rank !== 2) throw new Error(`${fn}: ${n} must be [B,E], received shape [${t.shape}]`);
    if (t.shape[0] !== t0.shape[0] || t.shape[1] !== t0.shape[1]) {
      throw new Error(`${fn}: ${n} has shape [${t.shape}]; expected the shape of ${n0}, [${t0.shape}]`);
    }
  }
  if (labels === undefined) return undefined;
  const len = Array.isArray(labels) ? labels.length : labels.size;
  if (len !== t0.shape[0]) throw new Error(`${fn}: ${labelName} has ${len} entries; expected ${t0.shape[0]} (one per pair)`);
  return Array.isArray(labels) ? tf.tensor1d(labels, 'float32') : (tf.cast(labels, 'float32') as tf.Tensor1D);
}
