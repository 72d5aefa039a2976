// Expert kind `affine`: unconditioned experts. Expert k is a learned per-channel (dgamma_k, dbeta_k)
// [C] each, zero-initialised (the block starts as the identity):
//   y = x + g ((x - mu) dgamma_k + dbeta_k)
// Nothing in an expert looks at the sample, so the router is the only input-dependent part: with N = 1
// the block is one fixed modulation for every modality, and only N > 1 lets it depend on the input
// (the ablation asking whether routing matters). Parameter keys: experts.dgamma [N,C], experts.dbeta [N,C].
import { tf } from '../../tf.ts';
import { registerExpertKind, type ExpertDims, type ExpertParamSpec, type ModulationOnnxInput, type ModulationTfInput } from '../expert_kind.ts';
import { pickRowsOnnx, pickRowsTf } from './pick.ts';

export function affineParams({ channels: C, numExperts: N }: ExpertDims): ExpertParamSpec[] {
  return [
    { key: 'experts.dgamma', shape: [N, C], init: { type: 'zeros' }, expert: 'stacked' },
    { key: 'experts.dbeta', shape: [N, C], init: { type: 'zeros' }, expert: 'stacked' },
  ];
}

export function affineModulation({ sel, param }: ModulationTfInput): tf.Tensor2D {
  // [B,C] each: exactly row k of the stacked parameters for a sample routed to k
  return tf.concat([pickRowsTf(sel, param('experts.dgamma')), pickRowsTf(sel, param('experts.dbeta'))], 1) as tf.Tensor2D; // [B,2C]
}

export function emitAffineModulation({ b, sel, param }: ModulationOnnxInput): string {
  return b.op1('Concat', [pickRowsOnnx(b, sel, param('experts.dgamma')), pickRowsOnnx(b, sel, param('experts.dbeta'))], { axis: 1 }); // [B,2C]
}

export const AFFINE = registerExpertKind({
  name: 'affine',
  description: 'unconditioned: learned per-channel (dgamma_k, dbeta_k); the router is the only input-dependent part',
  usesHidden: false,
  params: affineParams,
  modulation: affineModulation,
  emitModulation: emitAffineModulation,
});
