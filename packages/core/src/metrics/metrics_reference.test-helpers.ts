// Brute-force references for the score metrics, written independently of the implementations: no
// sorting or binary search, every candidate threshold counted by a full scan, rates compared as exact
// fractions (BigInt cross-multiplication). Slow (O(n^2)); for tests only.
import { mulberry32 } from '../rng.ts';

/** Every distinct score, and +Infinity, ascending. */
export function candidateThresholds(gen: number[], imp: number[]): number[] {
  const set = new Set<number>([...gen, ...imp].map((v) => (v === 0 ? 0 : v))); // -0 and 0 are one threshold
  return [...set, Infinity].sort((a, b) => a - b);
}

export function acceptedCount(scores: number[], t: number): number {
  let n = 0;
  for (const s of scores) if (s >= t) n++;
  return n;
}

/** EER by the rule: the threshold where |FMR - FNMR| is smallest, the lowest one on a tie. */
export function referenceEer(gen: number[], imp: number[]): { eer: number; threshold: number; fa: number; fr: number } {
  const nG = BigInt(gen.length);
  const nI = BigInt(imp.length);
  let best: { t: number; fa: number; fr: number; gap: bigint } | null = null;
  for (const t of candidateThresholds(gen, imp)) {
    const fa = acceptedCount(imp, t);
    const fr = gen.length - acceptedCount(gen, t);
    // |fa/nI - fr/nG| scaled by nI*nG
    let gap = BigInt(fa) * nG - BigInt(fr) * nI;
    if (gap < 0n) gap = -gap;
    if (best === null || gap < best.gap) best = { t, fa, fr, gap };
  }
  const b = best!;
  return { eer: (b.fa / imp.length + b.fr / gen.length) / 2, threshold: b.t, fa: b.fa, fr: b.fr };
}

/** TAR@FAR = the largest TAR over all thresholds whose FAR (count / nI) does not exceed `far`. */
export function referenceTarAtFar(gen: number[], imp: number[], far: number): { tar: number; threshold: number; fa: number } {
  let best: { tar: number; threshold: number; fa: number } = { tar: NaN, threshold: NaN, fa: NaN };
  if (!(1 / imp.length <= far)) return best; // not even one false accept allowed: not measurable
  // descending thresholds: TAR only grows, so the last admissible one is the answer
  for (const t of candidateThresholds(gen, imp).reverse()) {
    const fa = acceptedCount(imp, t);
    if (fa / imp.length <= far) best = { tar: acceptedCount(gen, t) / gen.length, threshold: t, fa };
  }
  return best;
}

/** Scores on a coarse grid (many exact ties), seeded. */
export function tiedScores(n: number, seed: number, levels: number, shift = 0): number[] {
  const u = mulberry32(seed);
  return Array.from({ length: n }, () => Math.round((u() + shift) * levels) / levels);
}
