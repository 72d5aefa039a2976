// Plain data shared by readers, the registry and the image loader (see docs/architecture.md).
export type Modality = 'VIS' | 'NIR' | 'THERMAL' | 'SKETCH' | 'POLAR' | 'SWIR' | 'DEPTH' | string;
export type Point = [number, number]; // [x, y] in source-image pixels
export type Role = 'train' | 'gallery' | 'probe';
export const ROLES: readonly Role[] = ['train', 'gallery', 'probe'];

export interface Sample {
  path: string; // absolute path on disk
  subject: string;
  modality: Modality;
  eyes?: [Point, Point]; // [left-in-image, right-in-image] eye centres
  landmarks?: Point[]; // 5 points in insightface order (eyes, nose, mouth corners)
  attributes?: Record<string, string>; // reader-specific tags a spec can select on (sensor, range, condition)
}

export interface Fold {
  protocol: string;
  fold: string;
  train: Sample[];
  gallery: Sample[];
  probe: Sample[];
}

/** A list entry or expected file that could not be resolved on disk. */
export interface MissingEntry {
  role?: Role;
  list?: string; // list file the entry came from, when there is one
  entry: string; // the entry as written (or the expected path)
  reason: string;
}

/** What a reader returns: samples plus everything it could not find (never silently dropped). */
export interface ReadResult {
  samples: Sample[];
  missing: MissingEntry[];
  notes: string[]; // tolerated gaps, e.g. "participant 12 has no TD_CS images"
}
