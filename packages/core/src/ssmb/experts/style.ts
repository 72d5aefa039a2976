// Expert kind `style`: expert k is an MLP of the instance style, s = [mu; sigma] [B,2C] ->
// D (ReLU) -> 2C = (dgamma, dbeta), D = max(16, C/2) by default; the last layer starts at zero, so the
// block starts as the identity. A single expert already adapts to each sample (its input is the sample's
// own style): N = 1 is a strong baseline for this kind. Parameter keys (unchanged since the first
// checkpoints): experts.fc1.weight [N,2C,D] (He normal), experts.fc1.bias [N,D], experts.fc2.weight
// [N,D,2C] (zero), experts.fc2.bias [N,2C] (zero); matmul layout [in,out], experts stacked on axis 0.
import { tf } from '../../tf.ts';
import { registerExpertKind, type ExpertDims, type ExpertParamSpec, type ModulationOnnxInput, type ModulationTfInput } from '../expert_kind.ts';
import { pickOnnx, pickRowsOnnx, pickRowsTf, pickTf } from './pick.ts';

export function styleParams({ channels: C, numExperts: N, hidden: D }: ExpertDims): ExpertParamSpec[] {
  return [
    { key: 'experts.fc1.weight', shape: [N, 2 * C, D], init: { type: 'normal', std: Math.sqrt(2 / (2 * C)) }, expert: 'stacked' }, // He
    { key: 'experts.fc1.bias', shape: [N, D], init: { type: 'zeros' }, expert: 'stacked' },
    { key: 'experts.fc2.weight', shape: [N, D, 2 * C], init: { type: 'zeros' }, expert: 'stacked' }, // zero: identity at init
    { key: 'experts.fc2.bias', shape: [N, 2 * C], init: { type: 'zeros' }, expert: 'stacked' },
  ];
}

export function styleModulation({ s, sel, dims, param }: ModulationTfInput): tf.Tensor2D {
  const { channels: C, hidden: D } = dims;
  const B = s.shape[0];
  const h = tf.relu(tf.add(
    tf.reshape(tf.matMul(tf.reshape(s, [B, 1, 2 * C]), pickTf(sel, param('experts.fc1.weight'), 2 * C, D)), [B, D]),
    pickRowsTf(sel, param('experts.fc1.bias')))); // [B,D]
  return tf.add(
    tf.reshape(tf.matMul(tf.reshape(h, [B, 1, D]), pickTf(sel, param('experts.fc2.weight'), D, 2 * C)), [B, 2 * C]),
    pickRowsTf(sel, param('experts.fc2.bias'))) as tf.Tensor2D; // [B,2C] = (dgamma, dbeta)
}

export function emitStyleModulation({ b, s, sel, dims, param, hint }: ModulationOnnxInput): string {
  const { channels: C, numExperts: N, hidden: D } = dims;
  const s3 = b.op1('Reshape', [s, b.int64(`${hint}_shape`, [0, 1, 2 * C])]); // [B,1,2C]
  const h1 = b.op1('Reshape', [b.op1('MatMul', [s3, pickOnnx(b, sel, param('experts.fc1.weight'), N, 2 * C, D, hint)]), b.int64(`${hint}_shape`, [0, D])]); // [B,D]
  const h = b.op1('Relu', [b.op1('Add', [h1, pickRowsOnnx(b, sel, param('experts.fc1.bias'))])]); // [B,D]
  const h3 = b.op1('Reshape', [h, b.int64(`${hint}_shape`, [0, 1, D])]); // [B,1,D]
  const o2 = b.op1('Reshape', [b.op1('MatMul', [h3, pickOnnx(b, sel, param('experts.fc2.weight'), N, D, 2 * C, hint)]), b.int64(`${hint}_shape`, [0, 2 * C])]); // [B,2C]
  return b.op1('Add', [o2, pickRowsOnnx(b, sel, param('experts.fc2.bias'))]); // [B,2C]
}

export const STYLE = registerExpertKind({
  name: 'style',
  description: 'MLP of the instance style [mu; sigma] (2C -> D ReLU -> 2C) gives (dgamma, dbeta)',
  usesHidden: true,
  params: styleParams,
  modulation: styleModulation,
  emitModulation: emitStyleModulation,
});
