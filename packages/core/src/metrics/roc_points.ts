// ROC curve points (FAR, TAR, threshold), thinned on a log-FAR grid so low-FAR detail survives storage.
import { checkScores, countAtLeast, sortedAscending, type Scores } from './scores.ts';

export interface RocPoint {
  far: number;
  tar: number;
  /** accept when score >= threshold */
  threshold: number;
}

export interface RocPointsOptions {
  /** upper bound on points kept (default 200, at least 2) */
  maxPoints?: number;
}

/**
 * Every distinct score as a threshold, from +Infinity (FAR 0, TAR 0) down to the lowest score (1, 1),
 * FAR ascending. Beyond `maxPoints`, keeps both ends, the best point at FAR 0 and the highest-TAR
 * point of each bin of an even log10(FAR) grid (TAR grows with FAR, so the bin's last point).
 */
export function rocPoints(genuine: Scores, impostor: Scores, opts: RocPointsOptions = {}): RocPoint[] {
  checkScores('genuine', genuine);
  checkScores('impostor', impostor);
  const maxPoints = opts.maxPoints ?? 200;
  if (!Number.isInteger(maxPoints) || maxPoints < 2) {
    throw new Error(`maxPoints must be an integer >= 2, received ${maxPoints}`);
  }
  const gen = sortedAscending(genuine);
  const imp = sortedAscending(impostor);
  const thresholds = Float64Array.from([...gen, ...imp]).sort().reverse();
  const all: RocPoint[] = [{ far: 0, tar: 0, threshold: Infinity }];
  for (let i = 0; i < thresholds.length; i++) {
    const t = thresholds[i];
    if (i > 0 && thresholds[i - 1] === t) continue;
    all.push({ far: countAtLeast(imp, t) / imp.length, tar: countAtLeast(gen, t) / gen.length, threshold: t });
  }
  if (all.length <= maxPoints) return all;

  const last = all[all.length - 1];
  const keep = new Map<number, RocPoint>(); // index in `all` -> point
  keep.set(0, all[0]);
  keep.set(all.length - 1, last);
  let lastZero = 0;
  for (let i = 0; i < all.length && all[i].far === 0; i++) lastZero = i;
  keep.set(lastZero, all[lastZero]);
  const minFar = 1 / imp.length; // smallest non-zero FAR
  const bins = Math.max(1, maxPoints - keep.size);
  const width = -Math.log10(minFar) / bins || 1;
  const binLast = new Map<number, number>();
  for (let i = lastZero + 1; i < all.length - 1; i++) {
    const bin = Math.min(bins - 1, Math.floor((Math.log10(all[i].far) - Math.log10(minFar)) / width));
    binLast.set(bin, i);
  }
  for (const i of binLast.values()) keep.set(i, all[i]);
  return [...keep.keys()].sort((a, b) => a - b).map((i) => all[i]);
}
