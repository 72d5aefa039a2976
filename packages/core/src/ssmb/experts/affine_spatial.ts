// Expert kind `affine+spatial`: the unconditioned `affine` modulation plus the spatial branch
// (spatial_branch.ts), whose conv does look at the sample's map:
//   y = x + g ((x - mu) dgamma_k + dbeta_k + pw_k(dw_k((x - mu) / sigma)))
// Parameter keys: experts.dgamma [N,C], experts.dbeta [N,C], experts.<k>.dw.weight [3,3,C],
// experts.<k>.pw.weight [C,C] (zero).
import { registerExpertKind, type ExpertDims } from '../expert_kind.ts';
import { affineModulation, affineParams, emitAffineModulation } from './affine.ts';
import { SPATIAL_BRANCH, spatialParams } from './spatial_branch.ts';

export const AFFINE_SPATIAL = registerExpertKind({
  name: 'affine+spatial',
  description: '`affine` plus a per-expert depthwise 3x3 + pointwise 1x1 conv of the instance-normalised map',
  usesHidden: false,
  params: (d: ExpertDims) => [...affineParams(d), ...spatialParams(d)],
  modulation: affineModulation,
  emitModulation: emitAffineModulation,
  spatial: SPATIAL_BRANCH,
});
