// The convergence measure on hand-made curves: the fixed-pair change over the last fifth, the minibatch
// figure beside it, every not-measurable case with its reason, and the summary over runs (nothing dropped).
import { describe, expect, it } from 'vitest';
import { fixedLossChange, minibatchLossChange, summariseConvergence, type RunConvergence } from './convergence.ts';

const pts = (xs: Array<[number, number]>) => xs.map(([step, value]) => ({ step, value }));

describe('fixedLossChange', () => {
  it('|L(T) - L(t0)| / |L(t0)| with t0 the last estimate at or before 0.8 T', () => {
    // T = 150: 0.8 T = 120; estimates every 10 steps; points given out of order
    const curve = pts([[150, 0.9], [0, 2], [110, 1.1], [120, 1.0], [130, 0.95], [140, 0.92]]);
    const m = fixedLossChange(curve, 150);
    expect(m).toEqual({ measurable: true, change: expect.closeTo(0.1, 12), from: { step: 120, value: 1 }, to: { step: 150, value: 0.9 }, estimatesAfterStart: 3 });
    // 0.8 T between estimates: the one before it is the start (T = 12: 9.6 -> step 5)
    expect(fixedLossChange(pts([[0, 4], [5, 2], [10, 1.5], [12, 1.5]]), 12)).toMatchObject({ measurable: true, change: 0.25, from: { step: 5 } });
    // a rising loss counts as change too
    expect(fixedLossChange(pts([[0, 1], [8, 1], [10, 1.2]]), 10)).toMatchObject({ measurable: true, change: expect.closeTo(0.2, 12) });
  });

  it('not measurable, with the reason: no points, no final estimate, none at or before 0.8 T, NaN, zero', () => {
    expect(fixedLossChange([], 10)).toEqual({ measurable: false, reason: expect.stringMatching(/no loss\/fixed estimates/) });
    expect(fixedLossChange(pts([[0, 1], [5, 0.9]]), 10)).toEqual({ measurable: false, reason: 'no loss/fixed estimate at the last step 10 (last one at step 5)' });
    expect(fixedLossChange(pts([[9, 1], [10, 0.9]]), 10)).toEqual({ measurable: false, reason: 'no loss/fixed estimate at or before step 8 (0.8 of 10); the first is at step 9' });
    expect(fixedLossChange(pts([[0, 1], [8, 1], [9, Number.NaN], [10, 1]]), 10)).toEqual({ measurable: false, reason: 'loss/fixed is NaN at step 9' });
    expect(fixedLossChange(pts([[0, 1], [8, 0], [10, 0]]), 10)).toMatchObject({ measurable: false, reason: expect.stringMatching(/is 0 at step 8/) });
    // a NaN before the window does not matter
    expect(fixedLossChange(pts([[0, Number.NaN], [8, 1], [10, 1]]), 10)).toMatchObject({ measurable: true, change: 0 });
    expect(() => fixedLossChange([], 0)).toThrow(/totalSteps must be a positive integer, received 0/);
  });
});

describe('minibatchLossChange', () => {
  it('mean of (0.9 T, T] against (0.8 T, 0.9 T], and the coefficient of variation of the window', () => {
    const loss = pts(Array.from({ length: 20 }, (_, i) => [i + 1, i < 16 ? 5 : i < 18 ? 2 : 1] as [number, number]));
    // T = 20: window steps 17..20; first half 17, 18 (values 2, 2), second 19, 20 (1, 1)
    const m = minibatchLossChange(loss, 20);
    expect(m).toMatchObject({ measurable: true, change: 0.5, firstMean: 2, secondMean: 1, points: 4 });
    const cv = Math.sqrt((4 * 0.25) / 3) / 1.5;
    expect((m as { cv: number }).cv).toBeCloseTo(cv, 12);
  });

  it('not measurable when a half is empty or a value is not finite', () => {
    expect(minibatchLossChange(pts([[1, 1], [2, 1]]), 10)).toEqual({ measurable: false, reason: 'the last fifth (8, 10] has 0 loss points up to step 9 and 0 after; both halves need one' });
    expect(minibatchLossChange(pts([[9, 1], [10, Number.POSITIVE_INFINITY]]), 10)).toEqual({ measurable: false, reason: 'loss is Infinity at step 10' });
  });
});

describe('summariseConvergence', () => {
  const run = (runId: number, fixed: Array<[number, number]>, loss: Array<[number, number]>): RunConvergence => ({
    runId, label: `run ${runId}`, totalSteps: 10, fixed: fixedLossChange(pts(fixed), 10), minibatch: minibatchLossChange(pts(loss), 10),
  });
  it('median, max, how many under the threshold; runs over it and unmeasurable ones listed, none dropped', () => {
    const mb: Array<[number, number]> = [[9, 1], [10, 1.1]];
    const runs = [
      run(1, [[0, 2], [8, 1], [10, 0.99]], mb), // 1%
      run(2, [[0, 2], [8, 1], [10, 0.97]], mb), // 3%
      run(3, [[0, 2], [8, 1], [10, 0.9]], mb), // 10%
      run(4, [[0, 2], [8, 1], [10, 0.8]], []), // 20%, minibatch not measurable
      run(5, [[0, 2]], mb), // not measurable
    ];
    const s = summariseConvergence(runs);
    expect(s).toMatchObject({ total: 5, measured: 4, threshold: 0.05, under: 2 });
    expect(s.median).toBeCloseTo(0.065, 12);
    expect(s.max).toBeCloseTo(0.2, 12);
    expect(s.over.map((r) => r.runId)).toEqual([4, 3]);
    expect(s.notMeasurable.map((r) => r.runId)).toEqual([5]);
    expect(s.runs).toHaveLength(5);
    expect(s.minibatch).toMatchObject({ measured: 4, under: 0 });
    expect(s.minibatch.median).toBeCloseTo(0.1, 12);
    const none = summariseConvergence([run(6, [], [])]);
    expect(none).toMatchObject({ total: 1, measured: 0, median: null, max: null, under: 0 });
    expect(() => summariseConvergence([], 0)).toThrow(/threshold must be > 0/);
  });
});
