// Teacher embeddings T(v) of the SSMB training images, computed once per run. Valid because the teacher
// is the frozen backbone in inference mode (BN running statistics; nothing in it is trained) and the
// training images are decoded once without random augmentation, so T(v) of an image never changes;
// the per-step teacher forward becomes a row lookup (docs/design.md#losses, L_ts). Either engine fills it:
// tfjs (build) or onnxruntime (buildWith, core's backbone graph).
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
    const { rowOf, unique } = TeacherCache.plan(images, indices, batchSize);
    const S = images.size;
    let embeddings = new Float32Array(0);
    let dim = 0;
    for (let start = 0; start < unique.length; start += batchSize) {
      const idx = unique.slice(start, start + batchSize);
      const e = tf.tidy(() => model.teacherForward(tf.tensor4d(gather(images, idx), [idx.length, S, S, 3]))); // [b,E]
      if (start === 0) {
        dim = e.shape[1];
        embeddings = new Float32Array(unique.length * dim);
      }
      embeddings.set(e.dataSync() as Float32Array, start * dim);
      e.dispose();
    }
    return new TeacherCache(rowOf, embeddings, dim);
  }

  /** The same cache from another engine's teacher embeddings (onnxruntime: core's backbone graph, [b,dim] per batch). */
  static async buildWith(embed: (x: Float32Array) => Promise<Float32Array>, dim: number, images: ImageSet, indices: ArrayLike<number>, batchSize: number): Promise<TeacherCache> {
    const { rowOf, unique } = TeacherCache.plan(images, indices, batchSize);
    const embeddings = new Float32Array(unique.length * dim);
    for (let start = 0; start < unique.length; start += batchSize) {
      const idx = unique.slice(start, start + batchSize);
      const values = await embed(gather(images, idx)); // [b,dim]
      if (values.length !== idx.length * dim) throw new Error(`TeacherCache.buildWith: the embedder returned ${values.length} values for ${idx.length} images; expected ${idx.length} x ${dim}`);
      embeddings.set(values, start * dim);
    }
    return new TeacherCache(rowOf, embeddings, dim);
  }

  /** The distinct images to embed, in order, and each sample's row; every index checked. */
  private static plan(images: ImageSet, indices: ArrayLike<number>, batchSize: number): { rowOf: Int32Array; unique: number[] } {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`TeacherCache.build: batchSize is ${batchSize}; expected a positive integer`);
    const n = images.samples.length;
    const rowOf = new Int32Array(n).fill(-1);
    const unique = [...new Set(Array.from(indices))];
    for (const i of unique) {
      if (!Number.isInteger(i) || i < 0 || i >= n) throw new Error(`TeacherCache.build: image index ${i} is outside the ${n} training images`);
    }
    unique.forEach((i, r) => (rowOf[i] = r));
    return { rowOf, unique };
  }

  /** T(v) of the images `indices` as a new [B,E] tensor (the caller disposes it). */
  lookup(indices: ArrayLike<number>): tf.Tensor2D {
    return tf.tensor2d(this.rows(indices), [indices.length, this.dim]);
  }

  /** T(v) of the images `indices`, [B,E] row-major. */
  rows(indices: ArrayLike<number>): Float32Array {
    const out = new Float32Array(indices.length * this.dim);
    for (let b = 0; b < indices.length; b++) {
      const r = this.rowOf[indices[b]] ?? -1;
      if (r < 0) throw new Error(`TeacherCache.lookup: image ${indices[b]} has no cached teacher embedding (only the anchor images given to build are cached)`);
      out.set(this.embeddings.subarray(r * this.dim, (r + 1) * this.dim), b * this.dim);
    }
    return out;
  }
}
