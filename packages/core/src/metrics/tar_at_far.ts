// TAR at a target FAR: the point of the ROC with the highest TAR whose FAR does not exceed the target
// (accept when score >= threshold).
import { checkScores, countAtLeast, nextUp, sortedAscending, type Scores } from './scores.ts';

export interface TarAtFar {
  /** the requested FAR */
  far: number;
  /** genuine accept rate at the threshold; NaN when the FAR cannot be reached */
  tar: number;
  /** accept when score >= threshold; NaN when the FAR cannot be reached */
  threshold: number;
  /** FAR actually obtained on the impostors at that threshold (<= far) */
  achievedFar: number;
  /** number of impostor comparisons the threshold was set on */
  impostorCount: number;
}

/**
 * Largest k with k / n <= far, in the same double arithmetic as the reported achievedFar = k / n: a
 * division is correctly rounded, so 29 / 100 is exactly the double 0.29 and 29 false accepts are
 * allowed at far = 0.29 however f * n rounds (0.29 * 100 = 28.999999999999996).
 */
export function allowedFalseAccepts(far: number, n: number): number {
  let k = Math.min(n, Math.floor(far * n));
  while (k < n && (k + 1) / n <= far) k++;
  while (k > 0 && k / n > far) k--;
  return k;
}

/**
 * For each target FAR, the lowest threshold whose impostor accept rate does not exceed it, so TAR is the
 * highest the ROC reaches at that FAR (the ROC point a reader takes off the curve). With k false accepts
 * allowed, any threshold above the (k+1)-th highest impostor keeps FAR <= far; the lowest score above it
 * is reported (a genuine score between two impostors counts as accepted). A FAR below 1 / impostorCount
 * cannot be measured (no false accept is allowed), so it yields NaN.
 */
export function tarAtFar(genuine: Scores, impostor: Scores, far: number): TarAtFar;
export function tarAtFar(genuine: Scores, impostor: Scores, far: number[]): TarAtFar[];
export function tarAtFar(genuine: Scores, impostor: Scores, far: number | number[]): TarAtFar | TarAtFar[] {
  checkScores('genuine', genuine);
  checkScores('impostor', impostor);
  const targets = Array.isArray(far) ? far : [far];
  for (const f of targets) {
    if (!(f >= 0 && f <= 1)) throw new Error(`far must be in [0, 1], received ${f}`);
  }
  const gen = sortedAscending(genuine);
  const imp = sortedAscending(impostor);
  const n = imp.length;
  const results = targets.map((f): TarAtFar => {
    const allowed = allowedFalseAccepts(f, n);
    if (allowed === 0) return { far: f, tar: NaN, threshold: NaN, achievedFar: NaN, impostorCount: n };
    // Accepting the top `allowed` impostors means rejecting imp[n - allowed - 1] and everything equal
    // to it; when ties straddle that cut, fewer are accepted (idx moves up past the tied run).
    let idx = n - allowed; // first accepted impostor in ascending order
    while (idx > 0 && idx < n && imp[idx - 1] === imp[idx]) idx++;
    if (idx === 0) {
      // every impostor may be accepted: accept everything
      return { far: f, tar: 1, threshold: Math.min(gen[0], imp[0]), achievedFar: 1, impostorCount: n };
    }
    const above = nextUp(imp[idx - 1]); // the lowest admissible threshold: just above the highest rejected impostor
    const tarCount = countAtLeast(gen, above);
    // report the lowest score that the threshold accepts (same decisions), or `above` when none is left
    const lowest = Math.min(tarCount > 0 ? gen[gen.length - tarCount] : Infinity, idx < n ? imp[idx] : Infinity);
    const threshold = lowest === Infinity ? above : lowest;
    return {
      far: f,
      tar: tarCount / gen.length,
      threshold,
      achievedFar: (n - idx) / n,
      impostorCount: n,
    };
  });
  return Array.isArray(far) ? results : results[0];
}
