// Sample -> aligned, normalised NHWC Float32Array; alignment method counted so fallbacks are reported.
import type { Point, Sample } from '../types.ts';
import { arcfaceEyes, centreCropAffine, insightfaceTemplate, similarityFromPoints, warpAffineNormalized, type Affine } from './align.ts';
import { decodeImage, type DecodedImage } from './decode.ts';
import type { AlignOptions } from './landmarker.ts';

/** 'detected': 5 points from the landmarker; 'detect-failed': the landmarker found no face (centre crop). */
export type AlignMethod = 'eyes' | 'landmarks' | 'detected' | 'detect-failed' | 'centre-crop';

export interface AlignStats {
  total: number;
  eyes: number;
  landmarks: number;
  fallback: number; // centre crops: samples with neither eyes nor landmarks (detection failures included)
  fallbackFiles: string[];
  detected: number; // aligned on landmarker points
  detectFailed: number; // the landmarker found no face
  detectFailedFiles: string[];
  /** aligned on landmarker points in an image where it found several faces (its rule chose one) */
  multiFace: number;
  multiFaceFiles: string[];
  /** the method of each image, in the order of the samples loaded */
  methods: AlignMethod[];
}

export function emptyAlignStats(): AlignStats {
  return {
    total: 0, eyes: 0, landmarks: 0, fallback: 0, fallbackFiles: [], detected: 0, detectFailed: 0, detectFailedFiles: [], multiFace: 0, multiFaceFiles: [], methods: [],
  };
}

/** Is `t` the insightface template at `size` (the one eye annotations are mapped with ArcFace's eye positions for)? */
function isInsightface(t: Point[], size: number): boolean {
  const ref = insightfaceTemplate(size);
  return t.length === 5 && t.every((p, i) => Math.abs(p[0] - ref[i][0]) < 1e-6 && Math.abs(p[1] - ref[i][1]) < 1e-6);
}

/** The transform used for a sample: 5 landmarks win over eyes; neither -> centre crop. With a template
 *  (a backbone's), landmarks map onto it and eyes onto its eye points. */
export function alignmentFor(sample: Sample, img: DecodedImage, size: number, template?: Point[]): { m: Affine; method: AlignMethod } {
  const t = template ?? insightfaceTemplate(size);
  if (sample.landmarks && sample.landmarks.length === 5) {
    return { m: similarityFromPoints(sample.landmarks, t), method: 'landmarks' };
  }
  if (sample.eyes) return { m: similarityFromPoints(sample.eyes, isInsightface(t, size) ? arcfaceEyes(size) : [t[0], t[1]]), method: 'eyes' };
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
  align: AlignOptions = {},
): Promise<{ data: Float32Array; method: AlignMethod; faces?: number }> {
  checkSize(size);
  if (align.template && align.template.length !== 5) throw new Error(`align.template: expected 5 points, received ${align.template.length}`);
  const data = out ?? new Float32Array(size * size * 3); // [H,W,3]
  const img = await decodeImage(sample.path);
  let { m, method } = alignmentFor(sample, img, size, align.template);
  let faces: number | undefined;
  if (method === 'centre-crop' && align.landmarker) {
    const found = await align.landmarker(img, sample);
    if (found) ({ m, method, faces } = { m: similarityFromPoints(found.points5, align.template ?? insightfaceTemplate(size)), method: 'detected', faces: found.faces });
    else method = 'detect-failed';
  }
  warpAffineNormalized(img, m, size, data, offset);
  return { data, method, ...(faces !== undefined ? { faces } : {}) };
}

/** [N,size,size,3] batch. Decodes run a few at a time (sharp works off the main thread). */
export async function loadAlignedBatch(
  samples: Sample[],
  size = 112,
  opts: { concurrency?: number; stats?: AlignStats } & AlignOptions = {},
): Promise<{ data: Float32Array; stats: AlignStats }> {
  checkSize(size);
  const per = size * size * 3;
  const data = new Float32Array(samples.length * per); // [N,H,W,3]
  const stats = opts.stats ?? emptyAlignStats();
  stats.methods ??= []; // stats objects made before the per-image methods existed
  stats.multiFace ??= 0;
  stats.multiFaceFiles ??= [];
  const first = stats.methods.length; // a shared stats object accumulates batches in order
  let next = 0;
  const worker = async () => {
    while (next < samples.length) {
      const i = next++;
      const { method, faces } = await loadAlignedImage(samples[i], size, data, i * per, opts);
      stats.total++;
      stats.methods[first + i] = method;
      if (method === 'eyes') stats.eyes++;
      else if (method === 'landmarks') stats.landmarks++;
      else if (method === 'detected') {
        stats.detected++;
        if ((faces ?? 1) > 1) {
          stats.multiFace++;
          stats.multiFaceFiles.push(samples[i].path);
        }
      }
      else {
        stats.fallback++;
        stats.fallbackFiles.push(samples[i].path);
        if (method === 'detect-failed') {
          stats.detectFailed++;
          stats.detectFailedFiles.push(samples[i].path);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker));
  return { data, stats };
}
