// instanceStats, modulate: values and gradients against plain-op autodiff, no leaks.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import { modulate } from './modulate.ts';
import { instanceStats } from './instance_stats.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

describe('instance ops', () => {
  const x = tf.randomNormal([2, 3, 5, 4], 1, 2, 'float32', 1) as tf.Tensor4D;
  const r = tf.randomNormal([2, 3, 5, 4], 0, 1, 'float32', 2);
  const a = tf.randomNormal([2, 1, 1, 4], 0, 1, 'float32', 3) as tf.Tensor4D;
  const b = tf.randomNormal([2, 1, 1, 4], 0, 1, 'float32', 4) as tf.Tensor4D;

  it('match tf.moments and broadcasting ops, values and gradients', () => {
    const before = tf.memory().numTensors;
    const ours = tf.tidy(() => {
      const f = (z: tf.Tensor, p: tf.Tensor, q: tf.Tensor) => {
        const { mu, variance: v } = instanceStats(z as tf.Tensor4D);
        const y = modulate(z as tf.Tensor4D, tf.mul(p, tf.sqrt(tf.add(v, 1e-5))) as tf.Tensor4D, tf.add(q, mu) as tf.Tensor4D);
        return tf.sum(tf.mul(y, r));
      };
      return [f(x, a, b), ...tf.grads(f)([x, a, b])];
    });
    const ref = tf.tidy(() => {
      const f = (z: tf.Tensor, p: tf.Tensor, q: tf.Tensor) => {
        const { mean, variance } = tf.moments(z, [1, 2], true);
        const y = tf.add(tf.mul(z, tf.add(1, tf.mul(p, tf.sqrt(tf.add(variance, 1e-5))))), tf.add(q, mean));
        return tf.sum(tf.mul(y, r));
      };
      return [f(x, a, b), ...tf.grads(f)([x, a, b])];
    });
    expect(tf.memory().numTensors).toBe(before + 8);
    ours.forEach((t, i) => expect(maxDiff(t, ref[i]) / (1e-3 + tf.tidy(() => tf.max(tf.abs(ref[i])).dataSync()[0]))).toBeLessThan(1e-5));
    tf.dispose([...ours, ...ref]);
  });

  it('reject wrong shapes', () => {
    expect(() => instanceStats(tf.zeros([3, 4]) as unknown as tf.Tensor4D)).toThrow(/instanceStats: x must be rank 4 \[B,H,W,C\], received shape \[3,4\]/);
    expect(() => modulate(x, a, tf.zeros([2, 1, 1, 3]) as tf.Tensor4D)).toThrow(/b has shape \[2,1,1,3\]; expected \[2,1,1,4\]/);
  });
});
