// TAR at a target FAR, with the threshold set on impostor scores only (accept when score >= threshold).
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
 * For each target FAR, the lowest threshold whose impostor accept rate does not exceed it. A FAR below
 * 1 / impostorCount cannot be measured (no false accept is allowed), so it yields NaN.
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
    // Allowed false accepts; the epsilon absorbs float noise such as 0.29 * 100 = 28.999999999999996.
    const allowed = Math.floor(f * n + 1e-9);
    if (allowed === 0) return { far: f, tar: NaN, threshold: NaN, achievedFar: NaN, impostorCount: n };
    // The k-th highest impostor, raised past any ties that would let more than `allowed` through.
    let idx = n - allowed; // imp[idx] is the allowed-th highest
    while (idx > 0 && imp[idx - 1] === imp[idx]) idx++;
    const threshold = idx >= n ? nextUp(imp[n - 1]) : imp[idx];
    return {
      far: f,
      tar: countAtLeast(gen, threshold) / gen.length,
      threshold,
      achievedFar: countAtLeast(imp, threshold) / n,
      impostorCount: n,
    };
  });
  return Array.isArray(far) ? results : results[0];
}
