import { describe, expect, it } from 'vitest';
import { tf } from '@ssmb/core';
import { Adam } from './adam.ts';

function quadratic(w: tf.Variable) {
  return () => tf.sum(tf.square(tf.sub(w, tf.tensor1d([1, -2, 3])))) as tf.Scalar;
}

describe('Adam', () => {
  it('matches tf.train.adam, restores its state exactly and leaks no tensors', async () => {
    await tf.setBackend('cpu');
    const before = tf.memory().numTensors;
    const w1 = tf.tidy(() => tf.variable(tf.tensor1d([0, 0, 0])));
    const w2 = tf.tidy(() => tf.variable(tf.tensor1d([0, 0, 0])));
    const ours = new Adam(new Map([['w', w1]]));
    const ref = tf.train.adam(0.1);
    for (let i = 0; i < 5; i++) {
      const { value, grads } = tf.variableGrads(quadratic(w1), [w1]);
      value.dispose();
      ours.apply({ w: grads[w1.name] }, 0.1);
      tf.dispose(grads);
      ref.minimize(quadratic(w2), false, [w2]);
    }
    const a = w1.dataSync();
    const b = w2.dataSync();
    for (let i = 0; i < 3; i++) expect(a[i]).toBeCloseTo(b[i], 5);
    // Snapshot, continue, restore into a fresh optimiser + weights, continue: identical bits.
    const snap = ours.state();
    const wSnap = w1.dataSync().slice();
    const step = (opt: Adam, w: tf.Variable) => {
      const { value, grads } = tf.variableGrads(quadratic(w), [w]);
      value.dispose();
      opt.apply({ w: grads[w.name] }, 0.05);
      tf.dispose(grads);
    };
    step(ours, w1);
    step(ours, w1);
    const w3 = tf.tidy(() => tf.variable(tf.tensor1d(wSnap)));
    const again = new Adam(new Map([['w', w3]]));
    again.load(snap);
    step(again, w3);
    step(again, w3);
    expect(Array.from(w3.dataSync())).toEqual(Array.from(w1.dataSync()));
    for (const t of [w1, w2, w3]) t.dispose();
    ours.dispose();
    again.dispose();
    ref.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
