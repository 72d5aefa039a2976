// Area under the ROC curve = P(genuine > impostor) + 0.5 P(genuine == impostor) (Mann-Whitney U).
import { checkScores, type Scores } from './scores.ts';

export function rocAuc(genuine: Scores, impostor: Scores): number {
  checkScores('genuine', genuine);
  checkScores('impostor', impostor);
  const nG = genuine.length;
  const nI = impostor.length;
  // Pool with labels, sort, give tied runs their average rank (1-based).
  const all: [number, boolean][] = [];
  for (let i = 0; i < nG; i++) all.push([genuine[i], true]);
  for (let i = 0; i < nI; i++) all.push([impostor[i], false]);
  all.sort((a, b) => a[0] - b[0]);
  let genuineRankSum = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j < all.length && all[j][0] === all[i][0]) j++;
    const avgRank = (i + 1 + j) / 2; // ranks i+1 .. j
    for (let k = i; k < j; k++) if (all[k][1]) genuineRankSum += avgRank;
    i = j;
  }
  return (genuineRankSum - (nG * (nG + 1)) / 2) / (nG * nI);
}
