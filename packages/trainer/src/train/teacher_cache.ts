// Teacher embeddings T(v) of the SSMB training images, computed once per run. Valid because the teacher
// is the frozen backbone in inference mode (BN running statistics; nothing in it is trained) and the
// training images are decoded once without random augmentation, so T(v) of an image never changes;
// the per-step teacher forward becomes a row lookup (docs/design.md#losses, L_ts).
import { tf, type HFRModel } from '@ssmb/core';
import { gather, type ImageSet } from './data.ts';

export class TeacherCache {
  private constructor(
    /** sample index -> row of `embeddings` (-1: not cached) */
    private readonly rowOf: Int32Array,
    /** [rows,E] */
    readonly embeddings: Float32Array,
    readonly dim: number,
  ) {}

  /** Teacher forward (no tape) over the images `indices` (e.g. every VIS training image) in batches. */
  static build(model: HFRModel, images: ImageSet, indices: ArrayLike<number>, batchSize: number): TeacherCache {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`TeacherCache.build: batchSize is ${batchSize}; expected a positive integer`);
    const n = images.samples.length;
    const rowOf = new Int32Array(n).fill(-1);
    const unique = [...new Set(Array.from(indices))];
    for (const i of unique) {
      if (!Number.isInteger(i) || i < 0 || i >= n) throw new Error(`TeacherCache.build: image index ${i} is outside the ${n} training images`);
    }
    unique.forEach((i, r) => (rowOf[i] = r));
    const S = images.size;
    let embeddings = new Float32Array(0);
    let dim = 0;
    for (let start = 0; start < unique.length; start += batchSize) {
      const idx = unique.slice(start, start + batchSize);
      const x = gather(images, idx); // [b,S,S,3]
      const e = tf.tidy(() => model.teacherForward(tf.tensor4d(x, [idx.length, S, S, 3]))); // [b,E]
      const values = e.dataSync() as Float32Array;
      if (start === 0) {
        dim = e.shape[1];
        embeddings = new Float32Array(unique.length * dim);
      }
      embeddings.set(values, start * dim);
      e.dispose();
    }
    return new TeacherCache(rowOf, embeddings, dim);
  }

  /** T(v) of the images `indices` as a new [B,E] tensor (the caller disposes it). */
  lookup(indices: ArrayLike<number>): tf.Tensor2D {
    const out = new Float32Array(indices.length * this.dim);
    for (let b = 0; b < indices.length; b++) {
      const r = this.rowOf[indices[b]] ?? -1;
      if (r < 0) throw new Error(`TeacherCache.lookup: image ${indices[b]} has no cached teacher embedding (only the anchor images given to build are cached)`);
      out.set(this.embeddings.subarray(r * this.dim, (r + 1) * this.dim), b * this.dim);
    }
    return tf.tensor2d(out, [indices.length, this.dim]);
  }
}
