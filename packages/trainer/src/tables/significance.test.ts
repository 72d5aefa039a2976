import { describe, expect, it } from 'vitest';
import { bootstrapDiff, groupDifference, pairedTTest, rankGroups, studentQuantile, studentTwoSidedP, type FoldValue } from './significance.ts';

const folds = (values: number[], trials?: number): FoldValue[] => values.map((value, i) => ({ fold: String(i + 1), value, trials }));

describe('significance', () => {
  it("Student's t: quantiles and p-values match scipy (t.ppf, ttest_rel)", () => {
    expect(studentQuantile(4)).toBeCloseTo(2.7764451, 5);
    expect(studentQuantile(1)).toBeCloseTo(12.7062047, 4);
    expect(studentTwoSidedP(1.959964, 1e6)).toBeCloseTo(0.05, 4);
  });

  it('paired t-test over folds pairs by fold id and gives the 95% interval of the mean difference', () => {
    const t = pairedTTest(folds([0.9, 0.8, 0.7, 0.95, 0.85]), folds([0.8, 0.78, 0.6, 0.9, 0.7]).reverse())!;
    // scipy.stats.ttest_rel([.9,.8,.7,.95,.85], [.8,.78,.6,.9,.7]): t = 3.73425548558485, p = 0.020221838529679473
    expect(t.t).toBeCloseTo(3.73425548558485, 9);
    expect(t.p).toBeCloseTo(0.020221838529679473, 9);
    expect(t.df).toBe(4);
    expect(t.meanDiff).toBeCloseTo(0.084, 12);
    expect(t.ci95[0]).toBeGreaterThan(0);
    expect((t.ci95[0] + t.ci95[1]) / 2).toBeCloseTo(0.084, 12);
    expect(pairedTTest(folds([0.9]), folds([0.8]))).toBeNull(); // one fold: no spread to test
    // Folds only one group has are left out.
    expect(pairedTTest([{ fold: 'a', value: 1 }, { fold: 'b', value: 2 }], [{ fold: 'b', value: 1 }, { fold: 'c', value: 0 }])).toBeNull();
  });

  it('bootstrap over probes: a 2-point gap on 360 probes per fold is inside the interval; 20 points is not', () => {
    const close = bootstrapDiff(folds([0.62, 0.64], 360), folds([0.6, 0.62], 360), { seed: 7 })!;
    expect(close.diff).toBeCloseTo(0.02, 12);
    expect(close.ci95[0]).toBeLessThan(0);
    expect(close.ci95[1]).toBeGreaterThan(0.02);
    const far = bootstrapDiff(folds([0.8, 0.82], 360), folds([0.6, 0.62], 360), { seed: 7 })!;
    expect(far.ci95[0]).toBeGreaterThan(0.1);
    // Same seed, same interval; no trial counts (EER), no interval.
    expect(bootstrapDiff(folds([0.62, 0.64], 360), folds([0.6, 0.62], 360), { seed: 7 })).toEqual(close);
    expect(bootstrapDiff(folds([0.1, 0.2]), folds([0.2, 0.3]))).toBeNull();
  });

  it('best is bold only when significantly best; otherwise the groups within the interval are tied', () => {
    // The case: 49.44 +- 6.02 over 47.22 +- 4.34 on five folds.
    const a = folds([0.55, 0.42, 0.5, 0.56, 0.4388], 300);
    const b = folds([0.5, 0.44, 0.43, 0.52, 0.4711], 300);
    const c = folds([0.2, 0.21, 0.19, 0.22, 0.2], 300);
    const r = rankGroups([{ id: 'a', folds: a }, { id: 'b', folds: b }, { id: 'c', folds: c }], 'higher', { seed: 3 });
    expect(r.best).toBeNull();
    expect(r.tied).toEqual(['a', 'b']);
    expect(r.differences.c!.significant).toBe(true);
    const clear = rankGroups([{ id: 'a', folds: a }, { id: 'c', folds: c }], 'higher');
    expect(clear).toMatchObject({ best: 'a', tied: [] });
    // Lower is better (EER): the smaller mean leads.
    expect(rankGroups([{ id: 'a', folds: a }, { id: 'c', folds: c }], 'lower').best).toBe('c');
    expect(rankGroups([{ id: 'a', folds: a }], 'higher')).toEqual({ best: null, tied: [], differences: {} });
    expect(groupDifference(folds([0.5]), folds([0.4]))).toMatchObject({ ttest: null, bootstrap: null, significant: false });
  });
});
