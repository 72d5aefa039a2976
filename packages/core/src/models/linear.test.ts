import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import { frozenLinear, matMulT } from './linear.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('linear ops with explicit-transpose gradients', () => {
  it('match tf.matMul values and gradients; no leaks', () => {
    const a = tf.randomNormal([3, 5], 0, 1, 'float32', 1) as tf.Tensor2D;
    const w = tf.randomNormal([5, 4], 0, 1, 'float32', 2) as tf.Tensor2D;
    const bias = tf.randomNormal([4], 0, 1, 'float32', 3) as tf.Tensor1D;
    const r = tf.randomNormal([3, 4], 0, 1, 'float32', 4);
    const wT = tf.transpose(w);
    const before = tf.memory().numTensors;
    const [g1, g2] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(matMulT(x as tf.Tensor2D, y as tf.Tensor2D), r)))([a, w]);
    const [h1, h2] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y), r)))([a, w]);
    const f1 = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(frozenLinear(x as tf.Tensor2D, w, wT, bias), r)))(a);
    const y1 = frozenLinear(a, w, wT, bias);
    const y2 = tf.tidy(() => tf.add(tf.matMul(a, w), bias));
    expect(tf.memory().numTensors).toBe(before + 7);
    const d = (p: tf.Tensor, q: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(p, q))).dataSync()[0]);
    expect(d(g1, h1)).toBeLessThan(1e-5);
    expect(d(g2, h2)).toBeLessThan(1e-5);
    expect(d(f1, h1)).toBeLessThan(1e-5);
    expect(d(y1, y2)).toBeLessThan(1e-5);
    expect(() => matMulT(a, a)).toThrow(/expected a \[M,K\] and b \[K,N\], received \[3,5\] and \[3,5\]/);
    tf.dispose([a, w, bias, r, wT, g1, g2, h1, h2, f1, y1, y2]);
  });
});
