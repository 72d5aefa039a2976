import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import { batchNormInference, batchNormTraining, BN_EPS, createBatchNorm } from './batch_norm.ts';
import { ParamStore } from './param_store.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const xs = [1, 2, 3, 5, -1, 0, 2, 4]; // [4,2]: channel 0 = 1,3,-1,2 ; channel 1 = 2,5,0,4

describe('batch norm', () => {
  it('training mode normalises with batch stats and updates running stats (PyTorch semantics)', () => {
    const bn = createBatchNorm(new ParamStore(), 'bn', 2);
    bn.weight.assign(tf.tensor1d([2, 1]));
    bn.bias.assign(tf.tensor1d([0.5, 0]));
    const x = tf.tensor2d(xs, [4, 2]);
    const y = batchNormTraining(x, bn);
    // channel 0: mean 1.25, biased var = (0.0625+3.0625+5.0625+0.5625)/4 = 2.1875
    const m0 = 1.25, v0 = 2.1875;
    expect(y.dataSync()[0]).toBeCloseTo(((1 - m0) / Math.sqrt(v0 + BN_EPS)) * 2 + 0.5, 5);
    expect(bn.runningMean.dataSync()[0]).toBeCloseTo(0.1 * m0, 6);
    expect(bn.runningVar.dataSync()[0]).toBeCloseTo(0.9 + 0.1 * v0 * (4 / 3), 6); // unbiased
    tf.dispose([x, y]);
  });

  it('custom gradient equals autodiff of the textbook formula', () => {
    const bn = createBatchNorm(new ParamStore(), 'bn', 2);
    bn.weight.assign(tf.tensor1d([1.5, -0.7]));
    const x = tf.tensor2d(xs, [4, 2]);
    const r = tf.tensor2d([0.3, -1, 2, 0.5, 1, 1, -2, 0.1], [4, 2]);
    const ours = tf.grads((a: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(batchNormTraining(a, { ...bn, weight: w as tf.Variable, bias: b as tf.Variable }), r)));
    const ref = tf.grads((a: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => {
      const { mean, variance } = tf.moments(a, [0]);
      return tf.sum(tf.mul(tf.add(tf.mul(tf.div(tf.sub(a, mean), tf.sqrt(tf.add(variance, BN_EPS))), w), b), r));
    });
    const g1 = ours([x, bn.weight, bn.bias]);
    const g2 = ref([x, bn.weight, bn.bias]);
    for (let i = 0; i < 3; i++) {
      const d = tf.max(tf.abs(tf.sub(g1[i], g2[i]))).dataSync()[0];
      expect(d).toBeLessThan(1e-4);
    }
    tf.dispose([x, r, ...g1, ...g2]);
  });

  it('inference mode uses running stats and leaks nothing', () => {
    const bn = createBatchNorm(new ParamStore(), 'bn', 2);
    bn.runningMean.assign(tf.tensor1d([1, -1]));
    bn.runningVar.assign(tf.tensor1d([4, 0.25]));
    const x = tf.tensor2d([3, 0], [1, 2]);
    const before = tf.memory().numTensors;
    const y = batchNormInference(x, bn);
    expect(tf.memory().numTensors).toBe(before + 1);
    const v = y.dataSync();
    expect(v[0]).toBeCloseTo(2 / Math.sqrt(4 + BN_EPS), 5);
    expect(v[1]).toBeCloseTo(1 / Math.sqrt(0.25 + BN_EPS), 5);
    tf.dispose([x, y]);
  });
});
