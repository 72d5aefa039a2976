// Expert kind `style+spatial`: the `style` MLP plus the spatial branch (spatial_branch.ts):
//   y = x + g ((x - mu) dgamma_k + dbeta_k + pw_k(dw_k((x - mu) / sigma)))
// Parameter keys: those of `style` + experts.<k>.dw.weight [3,3,C], experts.<k>.pw.weight [C,C] (zero).
import { registerExpertKind, type ExpertDims } from '../expert_kind.ts';
import { emitStyleModulation, styleModulation, styleParams } from './style.ts';
import { SPATIAL_BRANCH, spatialParams } from './spatial_branch.ts';

export const STYLE_SPATIAL = registerExpertKind({
  name: 'style+spatial',
  description: '`style` plus a per-expert depthwise 3x3 + pointwise 1x1 conv of the instance-normalised map',
  usesHidden: true,
  params: (d: ExpertDims) => [...styleParams(d), ...spatialParams(d)],
  modulation: styleModulation,
  emitModulation: emitStyleModulation,
  spatial: SPATIAL_BRANCH,
});
