import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import { crossModalContrastiveLoss } from './cross_modal_contrastive.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('crossModalContrastiveLoss', () => {
  // cosines: pair0 = 1 (genuine), pair1 = 0 (genuine), pair2 = 1/sqrt2 (impostor); norms differ on purpose.
  const sv = () => tf.tensor2d([[2, 0], [1, 0], [0, 3]]);
  const st = () => tf.tensor2d([[5, 0], [0, 1], [1, 1]]);

  it('matches the hand computation (m = 0 and m = 0.8)', () => {
    const before = tf.memory().numTensors;
    const a = sv(), b = st();
    const l0 = crossModalContrastiveLoss(a, b, [1, 1, 0]);
    expect(l0.dataSync()[0]).toBeCloseTo((0 + 1 + Math.SQRT1_2) / 3, 6);
    const l1 = crossModalContrastiveLoss(a, b, tf.tensor1d([1, 1, 0]), 0.8);
    expect(l1.dataSync()[0]).toBeCloseTo(1 / 3, 6);
    tf.dispose([a, b, l0, l1]);
    expect(tf.memory().numTensors).toBe(before + 1); // the label tensor created inline above
  });

  it('gradient pulls genuine pairs together', () => {
    const a = tf.tensor2d([[1, 0]]), b = tf.tensor2d([[1, 1]]);
    const g = tf.grad((x: tf.Tensor) => crossModalContrastiveLoss(x as tf.Tensor2D, b, [1]))(a);
    expect(g.dataSync()[1]).toBeLessThan(0); // moving sv towards [1,1] lowers the loss
    tf.dispose([a, b, g]);
  });

  it('rejects mismatched shapes and label counts', () => {
    const a = sv();
    expect(() => crossModalContrastiveLoss(a, tf.zeros([3, 4]) as tf.Tensor2D, [1, 1, 0])).toThrow(/st has shape \[3,4\]; expected the shape of sv, \[3,2\]/);
    expect(() => crossModalContrastiveLoss(a, a, [1, 0])).toThrow(/y has 2 entries; expected 3/);
    a.dispose();
  });
});
