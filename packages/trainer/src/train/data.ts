// Loads a fold and decodes its images once per run into one Float32Array (the synthetic benchmark is
// small), so training steps only copy rows and stay compute-bound.
import { loadAlignedBatch, loadFold, ROLES, type AlignOptions, type AlignStats, type LoadedFold, type OnMissing, type Role, type Sample } from '@ssmb/protocols';
import { describeAlignStats } from './align.ts';

export interface ImageSet {
  samples: Sample[];
  size: number;
  /** [N,size,size,3] scaled (x - 127.5) / 127.5 */
  data: Float32Array;
  /** how each image was aligned (counts, centre-cropped and no-face files, per-image method) */
  stats?: AlignStats;
}

export interface FoldLoadOptions {
  /** config dataset.onMissing: 'error' (default) fails naming the missing files; 'skip' counts them in `skipped`. */
  onMissing?: OnMissing;
  /** The roles this run reads (default all): an evaluation does not fail on a missing training image. */
  roles?: readonly Role[];
}

/**
 * The fold's samples for a run. Every list entry of the roles used must have its file, unless
 * onMissing is 'skip': then the fold comes back without them and `skipped` counts them per role.
 */
export async function loadFoldChecked(protocol: string, root: string, fold: string, opts: FoldLoadOptions = {}): Promise<LoadedFold> {
  const roles = opts.roles ?? ROLES;
  const f = await loadFold(protocol, root, fold, { onMissing: opts.onMissing ?? 'error', roles });
  const empty = roles.filter((r) => f[r].length === 0);
  if (empty.length === roles.length) throw new Error(`protocol ${protocol} fold ${fold} under ${root} lists no readable ${roles.join('/')} images; run \`ssmb protocols check\` on the root`);
  return f;
}

/** `align`: the backbone's template and the optional face landmarker (train/align.ts imageAlignment). */
export async function loadImages(samples: Sample[], size: number, align: AlignOptions = {}): Promise<ImageSet> {
  try {
    const { data, stats } = await loadAlignedBatch(samples, size, { concurrency: 8, ...align });
    if (stats.fallback || stats.detected) console.warn(describeAlignStats(stats, `images (${size}x${size})`)); // the worker log
    return { samples, size, data, stats };
  } catch (err) {
    throw new Error(`cannot load training/evaluation images: ${(err as Error).message}`);
  }
}

/** Copies rows `indices` of `set` into one [B,size,size,3] buffer. */
export function gather(set: ImageSet, indices: ArrayLike<number>, out?: Float32Array): Float32Array {
  const per = set.size * set.size * 3;
  const buf = out ?? new Float32Array(indices.length * per);
  for (let i = 0; i < indices.length; i++) buf.set(set.data.subarray(indices[i] * per, (indices[i] + 1) * per), i * per);
  return buf;
}
