// The optional face landmarker hook of the image loader, for samples without eye / landmark annotations
// (Tufts, a user's folder). Protocols defines only the interface: whoever loads images (the trainer) may
// pass a function that finds a face's 5 alignment points in a decoded image (core's face-api detector).
// The points are aligned like annotated landmarks, by the similarity transform into the template
// (align.ts). A sample the landmarker finds no face in is centre-cropped AND counted as a detection
// failure, with its file, in the alignment statistics (never a silent centre crop).
import type { Point, Sample } from '../types.ts';
import type { DecodedImage } from './decode.ts';

export interface LandmarkerResult {
  /** left-in-image eye, right-in-image eye, nose tip, left and right mouth corners (insightface order), source pixels */
  points5: Point[];
  /** detector confidence of the chosen face */
  score: number;
  /** faces found in the image; with more than one, the landmarker's documented rule chose this one */
  faces: number;
}

/** Finds the face to align in `img`; null when there is none. */
export type FaceLandmarker = (img: DecodedImage, sample: Sample) => Promise<LandmarkerResult | null>;

export interface AlignOptions {
  /** 5-point template at the output size (a backbone's InputContract template); default: insightface's scaled */
  template?: Point[];
  /** used for samples with neither eyes nor 5 landmarks */
  landmarker?: FaceLandmarker;
}
