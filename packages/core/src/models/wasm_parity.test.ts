// The training backend is wasm: the models must compute the same thing there as on cpu (this caught
// wasm's float32 OneHot writing int bit patterns, which silently disabled every SSMB).
import { describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import { initBackend } from '../backend.ts';
import { arcfaceLoss } from '../losses/arcface.ts';
import { crossModalContrastiveLoss } from '../losses/cross_modal_contrastive.ts';
import { loadBalancingLoss } from '../losses/load_balancing.ts';
import { HFRModel } from './hfr_model.ts';
import { createIResNet } from './registry.ts';

function run(): number[][] {
  const m = createIResNet('iresnet-tiny', { seed: 4, overrides: { inputSize: 16 } }); // small: cpu's filter gradient is slow
  let i = 0;
  for (const [n, v] of m.params) {
    if (n.includes('running_var')) v.assign(tf.randomUniform(v.shape, 0.5, 2, 'float32', i++));
    else if (n.includes('running_mean')) v.assign(tf.randomUniform(v.shape, -0.5, 0.5, 'float32', i++));
  }
  const x = tf.randomUniform([4, 16, 16, 3], -1, 1, 'float32', 9) as tf.Tensor4D;
  const cw = tf.randomNormal([16, 5], 0, 1, 'float32', 10) as tf.Tensor2D;
  const pre = tf.variableGrads(() => arcfaceLoss(m.forward(x, { training: true }), cw, [0, 1, 2, 3], { scale: 8 }), m.trainableVariables);
  const preG = [pre.value.dataSync()[0], ...Object.values(pre.grads).map((g) => tf.tidy(() => tf.sum(tf.abs(g)).dataSync()[0]))];
  const h = new HFRModel(m, { numExperts: 2, kind: 'style+spatial' });
  for (const [n, v] of h.blocks.get('layer1')!.params) if (n.includes('fc2') || n.includes('pw')) v.assign(tf.randomNormal(v.shape, 0, 0.3, 'float32', 5));
  const t = h.teacherForward(x);
  const emb = tf.tidy(() => Array.from(h.forward(x).embedding.dataSync()));
  const hg = tf.variableGrads(() => {
    const o = h.forward(x);
    return tf.add(crossModalContrastiveLoss(o.embedding, t, [1, 0, 1, 0]), loadBalancingLoss(o.routings)) as tf.Scalar;
  }, h.trainableVariables);
  const hG = Object.values(hg.grads).map((g) => tf.tidy(() => tf.sum(tf.abs(g)).dataSync()[0]));
  tf.dispose([x, cw, t, pre.value, ...Object.values(pre.grads), hg.value, ...Object.values(hg.grads)]);
  h.dispose();
  return [preG, emb, hG];
}

describe('wasm / cpu parity', () => {
  it('pre-training gradients, HFR embeddings and SSMB gradients agree', async () => {
    await initBackend({ prefer: 'wasm' });
    expect(tf.getBackend()).toBe('wasm');
    const w = run();
    await tf.setBackend('cpu');
    const c = run();
    for (let k = 0; k < 3; k++) {
      expect(w[k].length).toBe(c[k].length);
      const rel = Math.max(...c[k].map((v, i) => Math.abs(v - w[k][i]) / (Math.abs(v) + 1e-3)));
      expect(rel, ['pretrain grads', 'hfr embedding', 'ssmb grads'][k]).toBeLessThan(1e-3);
    }
  });
});
