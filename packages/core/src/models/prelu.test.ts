import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import { prelu } from './prelu.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('prelu', () => {
  it.each([[[2, 3, 4, 5]], [[6, 5]]])('matches tf.prelu values and gradients for shape %j', (shape) => {
    const x = tf.randomNormal(shape, 0, 1, 'float32', 1);
    const a = tf.randomUniform([5], -0.5, 0.5, 'float32', 2) as tf.Tensor1D;
    const r = tf.randomNormal(shape, 0, 1, 'float32', 3);
    const before = tf.memory().numTensors;
    const ours = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(prelu(p, q as tf.Tensor1D), r)))([x, a]);
    const ref = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(tf.prelu(p, q), r)))([x, a]);
    expect(tf.memory().numTensors).toBe(before + 4);
    ours.forEach((g, i) => expect(tf.tidy(() => tf.max(tf.abs(tf.sub(g, ref[i]))).dataSync()[0])).toBeLessThan(1e-5));
    expect(() => prelu(x, tf.zeros([4]) as tf.Tensor1D)).toThrow(/alpha has shape \[4\]; expected \[5\]/);
    tf.dispose([x, a, r, ...ours, ...ref]);
  });
});
