// The expert-kind registry with every built-in kind registered (import this module, not expert_kind.ts):
// one file per kind, imported here in the order listExpertKinds() reports them.
import './style.ts';
import './style_spatial.ts';
import './affine.ts';
import './affine_spatial.ts';

export {
  expertParamSpecs, getExpertKind, hasExpertKind, listExpertKinds, registerExpertKind,
  type ExpertDims, type ExpertKindDef, type ExpertParamSpec, type ModulationOnnxInput, type ModulationTfInput,
  type ParamInit, type ParamProvider, type SpatialBranch,
} from '../expert_kind.ts';
