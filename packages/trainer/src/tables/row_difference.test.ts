import { describe, expect, it } from 'vitest';
import { metricSpec } from './metrics.ts';
import { formatDifference, rowDifference } from './row_difference.ts';
import { buildTable, type FoldResult } from './build.ts';
import { smallTable } from './fixtures.test-helpers.ts';

const rank1 = metricSpec('rank1');
// the fixture table's rows `baseline` and `ssmb` in its column vis-nir (folds 1-3), metrics rank1 .. eer
const results: FoldResult[] = ['1', '2', '3'].flatMap((fold, i) => [
  { row: 'baseline', column: 'vis-nir', fold, metrics: { rank1: 0.6 + 0.01 * i, eer: 0.2 + 0.01 * i }, trials: { rank1: 300 } },
  { row: 'ssmb', column: 'vis-nir', fold, metrics: { rank1: 0.64 + 0.012 * i, eer: 0.18 + 0.011 * i }, trials: { rank1: 300 } },
]);
const table = (rs: FoldResult[]) => buildTable(smallTable(), rs);

describe('rowDifference', () => {
  it('A - B in points with the bootstrap interval over probes within folds, phrased for findings', () => {
    const d = rowDifference(table(results), 'baseline', 'ssmb', 'vis-nir', 'rank1')!;
    expect(d.diff).toBeCloseTo(-4.2, 6);
    expect(d.interval).toBe('bootstrap');
    expect(d.ci95![0]).toBeLessThan(d.diff);
    expect(d.ci95![1]).toBeGreaterThan(d.diff);
    expect(formatDifference(d, rank1)).toMatch(/^-4\.2 points, 95% CI \[-\d+\.\d, -?\d+\.\d\]( \(not significant\))?$/);
    // the same seed gives the same interval
    expect(rowDifference(table(results), 'baseline', 'ssmb', 'vis-nir', 'rank1')).toEqual(d);
    // an interval excluding 0 that the t-test over folds does not confirm is said so
    expect(formatDifference({ ...d, ci95: [-8.5, -0.1], p: 0.12, significant: false }, rank1)).toBe(
      '-4.2 points, 95% CI [-8.5, -0.1] (the interval excludes 0 but the paired t-test over folds does not (p = 0.12): not significant)');
    expect(formatDifference({ ...d, ci95: [-8.5, 1.1], p: 0.3, significant: false }, rank1)).toBe('-4.2 points, 95% CI [-8.5, 1.1] (not significant)');
  });

  it('metrics without trial counts use the paired t-test over folds; no shared fold: null', () => {
    const d = rowDifference(table(results), 'baseline', 'ssmb', 'vis-nir', 'eer')!;
    expect(d.interval).toBe('t-test');
    expect(d.diff).toBeCloseTo(1.9, 6); // eer is a percentage: points
    expect(rowDifference(table(results), 'baseline', 'nope', 'vis-nir', 'rank1')).toBeNull();
    const one = rowDifference(table(results.filter((r) => r.fold === '1').map((r) => ({ ...r, trials: undefined }))), 'baseline', 'ssmb', 'vis-nir', 'rank1')!;
    expect(formatDifference(one, rank1)).toBe('-4.0 points, 1 fold, no interval');
  });
});
