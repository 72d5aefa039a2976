// Metric catalogue for paper tables: how a stored per-fold metric is labelled and displayed.
// Stored values are fractions in [0, 1] (rank1 = 0.93); tables show percentages like papers do.

export type MetricDirection = 'higher' | 'lower';

export interface MetricSpec {
  /** Name of the per-fold metric in the run store (e.g. `rank1`). */
  key: string;
  /** Column header, e.g. `Rank-1`. */
  label: string;
  /** Multiply stored values by 100 for display. */
  percent: boolean;
  /** Which direction is better (bold best per column). */
  better: MetricDirection;
  /** Decimals shown. */
  decimals: number;
}

const KNOWN: Record<string, Omit<MetricSpec, 'key'>> = {
  rank1: { label: 'Rank-1', percent: true, better: 'higher', decimals: 2 },
  rank5: { label: 'Rank-5', percent: true, better: 'higher', decimals: 2 },
  tar_far_1e2: { label: 'TAR@FAR=1%', percent: true, better: 'higher', decimals: 2 },
  tar_far_1e3: { label: 'TAR@FAR=0.1%', percent: true, better: 'higher', decimals: 2 },
  tar_far_1e4: { label: 'TAR@FAR=0.01%', percent: true, better: 'higher', decimals: 2 },
  eer: { label: 'EER', percent: true, better: 'lower', decimals: 2 },
  auc: { label: 'AUC', percent: true, better: 'higher', decimals: 2 },
  // Data accounting recorded with a fold's scores (counts, not scores): what the run left out or read
  // differently from its spec. Tables mark cells whose folds skipped entries.
  skipped_train: { label: 'Skipped train entries', percent: false, better: 'lower', decimals: 0 },
  skipped_gallery: { label: 'Skipped gallery entries', percent: false, better: 'lower', decimals: 0 },
  skipped_probe: { label: 'Skipped probe entries', percent: false, better: 'lower', decimals: 0 },
  bitdepth_mismatch: { label: 'Bit-depth mismatches', percent: false, better: 'lower', decimals: 0 },
  align_centre_crop: { label: 'Centre-cropped images', percent: false, better: 'lower', decimals: 0 },
  align_no_face: { label: 'Images with no face detected', percent: false, better: 'lower', decimals: 0 },
  align_multi_face_train: { label: 'Train images with several faces', percent: false, better: 'lower', decimals: 0 },
  align_multi_face_gallery: { label: 'Gallery images with several faces', percent: false, better: 'lower', decimals: 0 },
  align_multi_face_probe: { label: 'Probe images with several faces', percent: false, better: 'lower', decimals: 0 },
};

/** Eval metric per role: list entries a run left out because their file is missing (dataset.onMissing=skip). */
export const SKIPPED_METRICS = { train: 'skipped_train', gallery: 'skipped_gallery', probe: 'skipped_probe' } as const;
/** Eval metric: images of the fold whose bit depth is not the one the protocol spec declares. */
export const BITDEPTH_MISMATCH_METRIC = 'bitdepth_mismatch';
/** Eval metrics: gallery + probe images that could not be aligned to the backbone's template and were
 *  centre-cropped instead (no eye/landmark annotation, or no face detected), and of those the ones where
 *  the face detector (dataset.detectFaces) found no face. Recorded only when > 0, like bitdepth_mismatch. */
export const ALIGN_METRICS = { centreCropped: 'align_centre_crop', noFace: 'align_no_face' } as const;
/** Eval metric per role: images in which the face detector found several faces and dataset.detectFaces.pick
 *  chose one (train only for runs that trained on the fold). Recorded only when > 0. */
export const MULTI_FACE_METRICS = { train: 'align_multi_face_train', gallery: 'align_multi_face_gallery', probe: 'align_multi_face_probe' } as const;

/** The three numbers every quickstart/paper table shows by default. */
export const DEFAULT_METRICS = ['rank1', 'tar_far_1e2', 'eer'] as const;

/** Which way a catalogue metric is better; null for a key the catalogue does not know. */
export function metricDirection(key: string): MetricDirection | null {
  return Object.hasOwn(KNOWN, key) ? KNOWN[key].better : null;
}

export function knownMetricKeys(): string[] {
  return Object.keys(KNOWN);
}

/**
 * Resolve a metric key (plus optional overrides from a table config) into a full spec.
 * Unknown keys need at least a label, so a typo fails loudly instead of printing an empty column.
 */
export function metricSpec(key: string, overrides: Partial<Omit<MetricSpec, 'key'>> = {}): MetricSpec {
  const base = KNOWN[key];
  if (!base && overrides.label === undefined) {
    throw new Error(
      `metric "${key}" is not a known metric (${knownMetricKeys().join(', ')}); ` +
        `give it a label, percent, better and decimals in the table config to use a custom metric`,
    );
  }
  return {
    key,
    label: overrides.label ?? base?.label ?? key,
    percent: overrides.percent ?? base?.percent ?? false,
    better: overrides.better ?? base?.better ?? 'higher',
    decimals: overrides.decimals ?? base?.decimals ?? 2,
  };
}
