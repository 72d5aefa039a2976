import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import { arcfaceLogits, arcfaceLoss } from './arcface.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const W = () => tf.tensor2d([[2, 0], [0, 3]]); // class centres e0, e1 (columns; norms are removed)

describe('ArcFace', () => {
  it('adds the angular margin to the target class only', () => {
    const w = W();
    const emb = tf.tensor2d([[1, 0], [0, 5], [-0.6, 0.8], [-0.96, 0.28]]);
    const m = 0.5;
    const logits = arcfaceLogits(emb, w, [0, 0, 0, 0], { scale: 1, margin: m }).arraySync();
    expect(logits[0][0]).toBeCloseTo(Math.cos(m), 5); // theta 0 -> cos(m)
    expect(logits[0][1]).toBeCloseTo(0, 5);
    expect(logits[1][0]).toBeCloseTo(-Math.sin(m), 5); // theta pi/2 -> cos(pi/2 + m)
    expect(logits[1][1]).toBeCloseTo(1, 5);
    expect(logits[2][0]).toBeCloseTo(-0.6 * Math.cos(m) - 0.8 * Math.sin(m), 5); // cos > cos(pi - m)
    expect(logits[3][0]).toBeCloseTo(-0.96 - Math.sin(Math.PI - m) * m, 5); // cos <= cos(pi - m): cos - m sin m
    const easy = arcfaceLogits(emb, w, [0, 0, 0, 0], { scale: 2, margin: m, easyMargin: true }).arraySync();
    expect(easy[0][0]).toBeCloseTo(2 * Math.cos(m), 5);
    expect(easy[2][0]).toBeCloseTo(2 * -0.6, 5); // easy margin: no margin where cos <= 0
    tf.dispose([w, emb]);
  });

  it('loss is the cross-entropy of the scaled logits, and training signal is finite at theta = 0', () => {
    const w = W();
    const emb = tf.tensor2d([[1, 0]]);
    const before = tf.memory().numTensors;
    const l = arcfaceLoss(emb, w, [0], { scale: 1, margin: 0.5 });
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(l.dataSync()[0]).toBeCloseTo(Math.log(1 + Math.exp(-Math.cos(0.5))), 5);
    const l64 = arcfaceLoss(emb, w, [0]); // defaults s = 64, m = 0.5
    expect(l64.dataSync()[0]).toBeCloseTo(Math.log(1 + Math.exp(-64 * Math.cos(0.5))), 5);
    const [ge, gw] = tf.grads((e: tf.Tensor, c: tf.Tensor) => arcfaceLoss(e as tf.Tensor2D, c as tf.Tensor2D, [1], { scale: 4 }))([emb, w]);
    expect(ge.dataSync().every(Number.isFinite) && gw.dataSync().every(Number.isFinite)).toBe(true);
    expect(ge.dataSync()[1]).toBeLessThan(0); // pull the embedding toward class 1 (e1)
    tf.dispose([w, emb, l, l64, ge, gw]);
  });

  it('rejects mismatched shapes', () => {
    const w = W();
    expect(() => arcfaceLoss(tf.zeros([2, 3]) as tf.Tensor2D, w, [0, 1])).toThrow(/classWeights has shape \[2,2\]; expected \[3,numClasses\]/);
    expect(() => arcfaceLoss(tf.zeros([2, 2]) as tf.Tensor2D, w, [0])).toThrow(/labels has 1 entries; expected 2/);
    w.dispose();
  });
});
