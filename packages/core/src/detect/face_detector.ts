// Face detection + 68 landmarks -> 5 alignment points, for images without eye annotations (Tufts, a
// user's folder). The networks are face-api's own (SSD MobileNet v1 detector, FaceLandmark68Net), with
// their weights from the installed @vladmandic/face-api package, running on our tf engine: a well-kept
// implementation, not ours. The alignment itself (similarity transform into a backbone's template) is
// protocols' (image/align.ts): this module only finds the points. The trainer hands `detectFaces` to the
// protocols loader as its optional landmarker (protocols depends on nothing here; see docs/architecture.md).
import { tf } from '../tf.ts';
import { faceApi } from '../models/face_api_package.ts';
import { packageFile, readTfjsWeights } from '../weights/tfjs_weights.ts';

export type Point = [number, number];

/** Pixels as the image decoders give them: interleaved 8-bit, 1 (grey) or 3 (RGB) channels, row-major. */
export interface PixelImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3;
}

export interface DetectedFace {
  score: number; // detector confidence
  box: { x: number; y: number; width: number; height: number }; // source pixels
  landmarks68: Point[]; // iBUG 68 points, source pixels
  /** left-in-image eye centre (mean of 36-41), right-in-image eye centre (42-47), nose tip (30), mouth
   *  corners (48, 54): the insightface 5-point order every template uses */
  points5: Point[];
}

export interface FaceDetectorOptions {
  /** detector score threshold (face-api's default 0.5) */
  minConfidence?: number;
  /** at most this many faces per image, best first */
  maxFaces?: number;
}

export interface FaceDetector {
  readonly label: string;
  /** faces found, best score first; [] when none passes minConfidence */
  detect(img: PixelImage): Promise<DetectedFace[]>;
  dispose(): void;
}

/**
 * Which face is aligned when an image holds several: `largest` box (the default: the person the photo is
 * of, not a small face in the background that the detector happens to score higher), highest detector
 * `score`, or the box whose centre is nearest the image `center`. Ties go to the higher score.
 */
export const FACE_PICKS = ['largest', 'score', 'center'] as const;
export type FacePick = (typeof FACE_PICKS)[number];
export const DEFAULT_FACE_PICK: FacePick = 'largest';

/** The face `pick` chooses among `faces` (best score first, as detect() returns them); undefined when none. */
export function pickFace(faces: DetectedFace[], pick: FacePick, img: { width: number; height: number }): DetectedFace | undefined {
  if (!(FACE_PICKS as readonly string[]).includes(pick)) throw new Error(`face pick must be one of ${FACE_PICKS.join(', ')}, received ${JSON.stringify(pick)}`);
  const cost = (f: DetectedFace): number => {
    if (pick === 'largest') return -f.box.width * f.box.height;
    if (pick === 'score') return -f.score;
    return Math.hypot(f.box.x + f.box.width / 2 - img.width / 2, f.box.y + f.box.height / 2 - img.height / 2);
  };
  let best: DetectedFace | undefined;
  for (const f of [...faces].sort((a, b) => b.score - a.score)) if (best === undefined || cost(f) < cost(best)) best = f;
  return best;
}

/** 68 iBUG landmarks -> the 5 alignment points. */
export function landmarks68To5(l: Point[]): Point[] {
  if (l.length !== 68) throw new Error(`landmarks68To5: expected 68 points, received ${l.length}`);
  const mean = (ids: number[]): Point => [ids.reduce((s, i) => s + l[i][0], 0) / ids.length, ids.reduce((s, i) => s + l[i][1], 0) / ids.length];
  return [mean([36, 37, 38, 39, 40, 41]), mean([42, 43, 44, 45, 46, 47]), l[30], l[48], l[54]];
}

const FACE_API = '@vladmandic/face-api';
const MODELS = {
  detector: 'model/ssd_mobilenetv1_model-weights_manifest.json',
  landmarks: 'model/face_landmark_68_model-weights_manifest.json',
};

interface FaceApiNets {
  nets: Record<'ssdMobilenetv1' | 'faceLandmark68Net', { loadFromWeightMap(m: Record<string, tf.Tensor>): void; isLoaded: boolean; dispose(): void }>;
  SsdMobilenetv1Options: new (o: { minConfidence: number; maxResults: number }) => unknown;
  detectAllFaces(input: tf.Tensor3D, o: unknown): { withFaceLandmarks(): Promise<FaceApiResult[]> };
  version: string;
}
interface FaceApiResult {
  detection: { score: number; box: { x: number; y: number; width: number; height: number } };
  landmarks: { positions: { x: number; y: number }[] };
}

function weightMap(manifest: string): Record<string, tf.Tensor> {
  const { tensors } = readTfjsWeights(packageFile(FACE_API, manifest));
  return Object.fromEntries([...tensors].map(([k, t]) => [k, tf.tensor(t.data, t.shape)]));
}

/** Loads face-api's detector and landmark networks (once per process) from the installed package. */
export function createFaceDetector(opts: FaceDetectorOptions = {}): FaceDetector {
  const minConfidence = opts.minConfidence ?? 0.5;
  const maxFaces = opts.maxFaces ?? 10;
  if (!(minConfidence > 0 && minConfidence < 1)) throw new Error(`createFaceDetector: minConfidence must be in (0, 1), received ${minConfidence}`);
  const api = faceApi() as unknown as FaceApiNets;
  if (!api.nets.ssdMobilenetv1.isLoaded) api.nets.ssdMobilenetv1.loadFromWeightMap(weightMap(MODELS.detector));
  if (!api.nets.faceLandmark68Net.isLoaded) api.nets.faceLandmark68Net.loadFromWeightMap(weightMap(MODELS.landmarks));
  const options = new api.SsdMobilenetv1Options({ minConfidence, maxResults: maxFaces });
  return {
    label: `face-api ${api.version} ssd_mobilenetv1 + face_landmark_68 (minConfidence ${minConfidence})`,
    async detect(img) {
      const { data, width, height, channels } = img;
      if (data.length !== width * height * channels) {
        throw new Error(`face detector: image data has ${data.length} values; expected ${width}x${height}x${channels}`);
      }
      const input = tf.tidy(() => {
        const t = tf.tensor3d(Int32Array.from(data), [height, width, channels], 'int32');
        return channels === 1 ? tf.tile(t, [1, 1, 3]) as tf.Tensor3D : t; // the detector takes RGB
      });
      try {
        const found = await api.detectAllFaces(input, options).withFaceLandmarks();
        return found
          .map((f): DetectedFace => {
            const l: Point[] = f.landmarks.positions.map((p) => [p.x, p.y]);
            const b = f.detection.box;
            return { score: f.detection.score, box: { x: b.x, y: b.y, width: b.width, height: b.height }, landmarks68: l, points5: landmarks68To5(l) };
          })
          .sort((a, b) => b.score - a.score);
      } finally {
        input.dispose();
      }
    },
    // the networks stay loaded for the process (face-api keeps them as module singletons)
    dispose: () => {},
  };
}
