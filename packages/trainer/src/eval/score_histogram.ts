// Genuine and impostor score histograms of one fold: fixed bins over the cosine range, so folds, runs and
// protocols share their bins (Compare overlays them without re-binning). Every comparison is counted:
// a score outside the range (float rounding past +-1 is folded into the edge bin; anything further,
// or NaN, is counted in `outside`), so the counts always add up to the fold's genuine/impostor metrics.
import type { ScoreHistogram } from '../store/types.ts';

/** Cosine scores lie in [-1, 1]: 100 bins of width 0.02. */
export const SCORE_BINS = { lo: -1, hi: 1, bins: 100 } as const;
/** How far past an edge a score still counts as that edge (float32 dot products of unit vectors). */
const EDGE_TOLERANCE = 1e-4;

/** Counts per bin of `scores` over [lo, hi] (the last bin includes hi) and how many fell outside or are NaN. */
export function binScores(scores: ArrayLike<number>, spec: { lo: number; hi: number; bins: number } = SCORE_BINS): { counts: number[]; outside: number } {
  const { lo, hi, bins } = spec;
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && hi > lo)) throw new Error(`binScores: expected finite lo < hi, received lo=${lo} hi=${hi}`);
  if (!(Number.isInteger(bins) && bins >= 1)) throw new Error(`binScores: expected an integer number of bins >= 1, received ${bins}`);
  const counts = new Array<number>(bins).fill(0);
  let outside = 0;
  const width = (hi - lo) / bins;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i];
    if (!(s >= lo - EDGE_TOLERANCE && s <= hi + EDGE_TOLERANCE)) {
      outside++; // NaN fails both comparisons
      continue;
    }
    counts[Math.min(bins - 1, Math.max(0, Math.floor((s - lo) / width)))]++;
  }
  return { counts, outside };
}

/** The fold's genuine and impostor histograms on the shared bins. */
export function scoreHistogram(genuine: ArrayLike<number>, impostor: ArrayLike<number>): ScoreHistogram {
  const g = binScores(genuine);
  const i = binScores(impostor);
  return { lo: SCORE_BINS.lo, hi: SCORE_BINS.hi, genuine: g.counts, impostor: i.counts, outside: { genuine: g.outside, impostor: i.outside } };
}
