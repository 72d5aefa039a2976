// Sample -> aligned, normalised NHWC Float32Array; alignment method counted so fallbacks are reported.
import type { Sample } from '../types.ts';
import { arcfaceEyes, centreCropAffine, insightfaceTemplate, similarityFromPoints, warpAffineNormalized, type Affine } from './align.ts';
import { decodeImage, type DecodedImage } from './decode.ts';

export type AlignMethod = 'eyes' | 'landmarks' | 'centre-crop';

export interface AlignStats {
  total: number;
  eyes: number;
  landmarks: number;
  fallback: number; // centre crops: samples with neither eyes nor landmarks
  fallbackFiles: string[];
}

export function emptyAlignStats(): AlignStats {
  return { total: 0, eyes: 0, landmarks: 0, fallback: 0, fallbackFiles: [] };
}

/** The transform used for a sample: 5 landmarks win over eyes; neither -> centre crop. */
export function alignmentFor(sample: Sample, img: DecodedImage, size: number): { m: Affine; method: AlignMethod } {
  if (sample.landmarks && sample.landmarks.length === 5) {
    return { m: similarityFromPoints(sample.landmarks, insightfaceTemplate(size)), method: 'landmarks' };
  }
  if (sample.eyes) return { m: similarityFromPoints(sample.eyes, arcfaceEyes(size)), method: 'eyes' };
  return { m: centreCropAffine(img.width, img.height, size), method: 'centre-crop' };
}

function checkSize(size: number): void {
  if (!Number.isInteger(size) || size < 8) throw new Error(`size must be an integer >= 8, received ${size}`);
}

export async function loadAlignedImage(
  sample: Sample,
  size = 112,
  out?: Float32Array,
  offset = 0,
): Promise<{ data: Float32Array; method: AlignMethod }> {
  checkSize(size);
  const data = out ?? new Float32Array(size * size * 3); // [H,W,3]
  const img = await decodeImage(sample.path);
  const { m, method } = alignmentFor(sample, img, size);
  warpAffineNormalized(img, m, size, data, offset);
  return { data, method };
}

/** [N,size,size,3] batch. Decodes run a few at a time (sharp works off the main thread). */
export async function loadAlignedBatch(
  samples: Sample[],
  size = 112,
  opts: { concurrency?: number; stats?: AlignStats } = {},
): Promise<{ data: Float32Array; stats: AlignStats }> {
  checkSize(size);
  const per = size * size * 3;
  const data = new Float32Array(samples.length * per); // [N,H,W,3]
  const stats = opts.stats ?? emptyAlignStats();
  let next = 0;
  const worker = async () => {
    while (next < samples.length) {
      const i = next++;
      const { method } = await loadAlignedImage(samples[i], size, data, i * per);
      stats.total++;
      if (method === 'eyes') stats.eyes++;
      else if (method === 'landmarks') stats.landmarks++;
      else {
        stats.fallback++;
        stats.fallbackFiles.push(samples[i].path);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker));
  return { data, stats };
}
