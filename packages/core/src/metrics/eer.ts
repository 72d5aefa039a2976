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
 *
 * The gap is compared on integer counts, |fa * nG - fr * nI| (= |FMR - FNMR| * nI * nG, exact below
 * 2^53): comparing the rounded rates instead breaks exact ties (1 - 4/5 is 0.19999999999999996), so a
 * higher threshold could win a tie the rule gives to the lower one.
 */
export function eer(genuine: Scores, impostor: Scores): EerResult {
  checkScores('genuine', genuine);
  checkScores('impostor', impostor);
  const gen = sortedAscending(genuine);
  const imp = sortedAscending(impostor);
  const nG = gen.length;
  const nI = imp.length;
  const candidates = Float64Array.from([...gen, ...imp, Infinity]).sort();
  let best = { t: Infinity, fa: 0, fr: nG };
  let bestGap = Infinity;
  for (let i = 0; i < candidates.length; i++) {
    const t = candidates[i];
    if (i > 0 && candidates[i - 1] === t) continue;
    const fa = countAtLeast(imp, t); // impostors accepted
    const fr = nG - countAtLeast(gen, t); // genuine rejected
    const gap = Math.abs(fa * nG - fr * nI);
    // ascending thresholds: strictly smaller only, so the lowest threshold keeps a tie
    if (gap < bestGap) {
      bestGap = gap;
      best = { t, fa, fr };
    }
  }
  // one rounding each: the mean of the two rates as a single fraction of integers
  return { eer: (best.fa * nG + best.fr * nI) / (2 * nI * nG), threshold: best.t, fmr: best.fa / nI, fnmr: best.fr / nG };
}
