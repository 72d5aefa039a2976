import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import { loadBalancingLoss } from './load_balancing.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('loadBalancingLoss', () => {
  it('matches the hand computation, averaged over blocks', () => {
    // block A: experts [0,1,0] -> f = [2/3,1/3]; P = [0.6333.., 0.3666..]; 2 * (2/3*0.6333 + 1/3*0.3667) = 1.08889
    const pA = tf.tensor2d([[0.7, 0.3], [0.4, 0.6], [0.8, 0.2]]);
    const eA = tf.tensor1d([0, 1, 0], 'int32');
    // block B: 3 experts, all samples to expert 2 with prob 1 -> 3 * 1 * 1 = 3 (total collapse)
    const pB = tf.tensor2d([[0, 0, 1], [0, 0, 1], [0, 0, 1]]);
    const eB = tf.tensor1d([2, 2, 2], 'int32');
    const a = 2 * ((2 / 3) * (1.9 / 3) + (1 / 3) * (1.1 / 3));
    const lA = loadBalancingLoss([{ probs: pA, expert: eA }]);
    expect(lA.dataSync()[0]).toBeCloseTo(a, 6);
    const lAB = loadBalancingLoss([{ probs: pA, expert: eA }, { probs: pB, expert: eB }]);
    expect(lAB.dataSync()[0]).toBeCloseTo((a + 3) / 2, 6);
    // gradient flows to probs only through P: d/dp[b,i] = N f_i / B
    const g = tf.grad((p: tf.Tensor) => loadBalancingLoss([{ probs: p as tf.Tensor2D, expert: eA }]))(pA);
    const gv = g.dataSync();
    expect(gv[0]).toBeCloseTo((2 * (2 / 3)) / 3, 6);
    expect(gv[1]).toBeCloseTo((2 * (1 / 3)) / 3, 6);
    tf.dispose([pA, eA, pB, eB, lA, lAB, g]);
  });

  it('a perfectly balanced uniform router gives 1; empty input fails', () => {
    const p = tf.fill([4, 4], 0.25) as tf.Tensor2D;
    const e = tf.tensor1d([0, 1, 2, 3], 'int32');
    const l = loadBalancingLoss([{ probs: p, expert: e }]);
    expect(l.dataSync()[0]).toBeCloseTo(1, 6);
    expect(() => loadBalancingLoss([])).toThrow(/routings is empty/);
    tf.dispose([p, e, l]);
  });
});
