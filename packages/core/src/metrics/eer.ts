// Equal error rate: FMR and FNMR averaged at the threshold where they are closest.
import { checkScores, countAtLeast, sortedAscending, type Scores } from './scores.ts';

export interface EerResult {
  eer: number;
  /** accept when score >= threshold */
  threshold: number;
  /** impostors accepted at the threshold */
  fmr: number;
  /** genuine rejected at the threshold */
  fnmr: number;
}

/**
 * Tries every distinct score (and +Infinity, rejecting all) as the threshold; among the thresholds where
 * |FMR - FNMR| is smallest the lowest one is reported.
 */
export function eer(genuine: Scores, impostor: Scores): EerResult {
  checkScores('genuine', genuine);
  checkScores('impostor', impostor);
  const gen = sortedAscending(genuine);
  const imp = sortedAscending(impostor);
  const candidates = Float64Array.from([...gen, ...imp, Infinity]).sort();
  let best: EerResult | null = null;
  let bestGap = Infinity;
  for (let i = 0; i < candidates.length; i++) {
    const t = candidates[i];
    if (i > 0 && candidates[i - 1] === t) continue;
    const fmr = countAtLeast(imp, t) / imp.length;
    const fnmr = 1 - countAtLeast(gen, t) / gen.length;
    const gap = Math.abs(fmr - fnmr);
    if (gap < bestGap) {
      bestGap = gap;
      best = { eer: (fmr + fnmr) / 2, threshold: t, fmr, fnmr };
    }
  }
  return best as EerResult;
}
