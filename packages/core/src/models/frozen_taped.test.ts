import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import { createIResNet } from './registry.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('frozen backbone under a gradient tape (frozenBlock / frozenConvPrelu)', () => {
  it.each([true, false])('input gradient equals autodiff of the unfolded model (all alphas > 0: %s)', (positive) => {
    const m = createIResNet('iresnet-tiny', { seed: 7, overrides: { inputSize: 16 } });
    let i = 0;
    for (const [n, v] of m.params) {
      if (n.includes('running_var')) v.assign(tf.randomUniform(v.shape, 0.5, 2, 'float32', i++));
      else if (n.includes('running_mean')) v.assign(tf.randomUniform(v.shape, -0.5, 0.5, 'float32', i++));
      else if (n.includes('prelu')) v.assign(tf.randomUniform(v.shape, positive ? 0.05 : -0.5, 0.6, 'float32', i++));
    }
    const x = tf.randomUniform([2, 16, 16, 3], -1, 1, 'float32', 3) as tf.Tensor4D;
    const r = tf.randomNormal([2, 16], 0, 1, 'float32', 4);
    const f = (z: tf.Tensor) => tf.sum(tf.mul(m.forward(z as tf.Tensor4D), r));
    const ref = tf.grad(f)(x); // trainable model: running-stat BN from the variables, plain autodiff
    m.setFrozen(true);
    tf.dispose(m.forward(x)); // build the fold cache outside the measurement
    const before = tf.memory().numTensors;
    const ours = tf.grad(f)(x);
    expect(tf.memory().numTensors).toBe(before + 1);
    const d = tf.tidy(() => tf.max(tf.abs(tf.sub(ours, ref))).dataSync()[0] / tf.max(tf.abs(ref)).dataSync()[0]);
    expect(d).toBeLessThan(1e-4);
    tf.dispose([x, r, ref, ours]);
    m.dispose();
  });
});
