// Plain data shared by readers, the registry and the image loader (see docs/architecture.md).
import type { KnownModality } from './modalities.ts';

export type Modality = KnownModality | string;
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

/**
 * A list entry or expected file that could not be resolved on disk. `kind`: `entry` = one image a list
 * names (the default), `subject` = a subject a split names that has no image at all, `list` = a whole
 * list file. Entries and subjects of a role can be skipped by a run (`onMissing: 'skip'`, counted);
 * a missing list file, or an entry with no role, always fails a run: nobody can say what it held.
 */
export interface MissingEntry {
  role?: Role;
  kind?: 'entry' | 'subject' | 'list';
  list?: string; // list file the entry came from, when there is one
  entry: string; // the entry as written (or the expected path)
  reason: string;
}

/** What a reader returns: samples plus everything it could not find (never silently dropped). */
export interface ReadResult {
  samples: Sample[];
  missing: MissingEntry[];
  notes: string[]; // tolerated oddities, e.g. "TD_3D_Set1: sensor 3D is not read"
}

/** What to do with list entries whose file is missing when a fold is loaded for a run. */
export type OnMissing = 'error' | 'skip';
export const ON_MISSING: readonly OnMissing[] = ['error', 'skip'];
