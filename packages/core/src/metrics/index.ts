export { checkScores, nextUp, type Scores } from './scores.ts';
export { cmc, identificationRanks } from './cmc.ts';
export { rankK } from './rank_k.ts';
export { tarAtFar, type TarAtFar } from './tar_at_far.ts';
export { eer, type EerResult } from './eer.ts';
export { rocAuc } from './roc_auc.ts';
export { rocPoints, type RocPoint, type RocPointsOptions } from './roc_points.ts';
export { detPoints, probit, type DetPoint } from './det.ts';
