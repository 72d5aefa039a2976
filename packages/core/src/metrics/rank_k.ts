// Closed-set Rank-k identification rate (Rank-1 is the usual headline number).
import { cmc } from './cmc.ts';
import type { Scores } from './scores.ts';

export function rankK(scores: readonly Scores[], probeSubjects: readonly string[], gallerySubjects: readonly string[],
  k = 1): number {
  if (!Number.isInteger(k) || k < 1) throw new Error(`k must be an integer >= 1, received ${k}`);
  return cmc(scores, probeSubjects, gallerySubjects, k)[k - 1];
}
