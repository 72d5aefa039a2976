// Closed-set identification: each probe's rank in the gallery and the cumulative match characteristic.
import type { Scores } from './scores.ts';

/**
 * The rank (1 = best) of each probe's own subject among the gallery subjects, ranking subjects by their
 * best score in the probe's row. Ties are pessimistic: another subject scoring equal to the true one is
 * ranked ahead of it (a constant scorer does not get Rank-1 = 100%).
 * @param scores probe x gallery similarity matrix (one row per probe, higher = more similar)
 */
export function identificationRanks(scores: readonly Scores[], probeSubjects: readonly string[],
  gallerySubjects: readonly string[]): number[] {
  if (scores.length !== probeSubjects.length) {
    throw new Error(`scores has ${scores.length} rows but probeSubjects has ${probeSubjects.length} entries; ` +
      'expected one score row per probe');
  }
  if (gallerySubjects.length === 0) throw new Error('gallerySubjects is empty; a closed-set gallery is needed');
  const gallerySet = new Set(gallerySubjects);
  return scores.map((row, p) => {
    if (row.length !== gallerySubjects.length) {
      throw new Error(`scores row ${p} has ${row.length} values, expected ${gallerySubjects.length} (one per gallery entry)`);
    }
    const subject = probeSubjects[p];
    if (!gallerySet.has(subject)) {
      throw new Error(`probe ${p} (subject '${subject}') has no gallery entry; closed-set ranks need every ` +
        'probe subject in the gallery');
    }
    const best = new Map<string, number>();
    for (let g = 0; g < row.length; g++) {
      const s = row[g];
      if (!Number.isFinite(s)) throw new Error(`scores[${p}][${g}] is ${s}; every score must be a finite number`);
      const prev = best.get(gallerySubjects[g]);
      if (prev === undefined || s > prev) best.set(gallerySubjects[g], s);
    }
    const own = best.get(subject) as number;
    let ahead = 0;
    for (const [other, s] of best) if (other !== subject && s >= own) ahead++;
    return ahead + 1;
  });
}

/**
 * CMC curve: cmc[k - 1] = share of probes whose subject is within the top k gallery subjects, for
 * k = 1..maxRank (default: the number of gallery subjects, where it reaches 1).
 */
export function cmc(scores: readonly Scores[], probeSubjects: readonly string[], gallerySubjects: readonly string[],
  maxRank?: number): number[] {
  const ranks = identificationRanks(scores, probeSubjects, gallerySubjects);
  const subjects = new Set(gallerySubjects).size;
  const K = maxRank ?? subjects;
  if (!Number.isInteger(K) || K < 1) throw new Error(`maxRank must be an integer >= 1, received ${maxRank}`);
  if (ranks.length === 0) throw new Error('no probes: the CMC of an empty probe set is undefined');
  const hits = new Array<number>(K).fill(0);
  for (const r of ranks) if (r <= K) hits[r - 1]++;
  let cum = 0;
  return hits.map((h) => (cum += h) / ranks.length);
}
