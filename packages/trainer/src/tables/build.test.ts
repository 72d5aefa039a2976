import { describe, expect, it } from 'vitest';
import { buildTable, meanStd, type FoldResult } from './build.ts';
import { parseReferences } from './references.ts';
import { smallTable } from './fixtures.test-helpers.ts';

const fold = (row: string, column: string, f: string, rank1: number, eer: number): FoldResult => ({
  row, column, fold: f, metrics: { rank1, tar_far_1e2: rank1 - 0.1, eer },
});

describe('meanStd', () => {
  it('uses the sample standard deviation', () => {
    const s = meanStd([1, 2, 3, 4]);
    expect(s.mean).toBe(2.5);
    expect(s.std).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(meanStd([7])).toEqual({ mean: 7, std: 0, n: 1 });
    expect(() => meanStd([])).toThrow(/empty/);
  });
});

describe('buildTable', () => {
  const results = [
    fold('baseline', 'vis-vis', '1', 0.99, 0.01),
    fold('baseline', 'vis-nir', '1', 0.5, 0.2),
    fold('baseline', 'vis-nir', '2', 0.6, 0.3),
    fold('baseline', 'vis-nir', '3', 0.55, 0.25),
    fold('ssmb', 'vis-nir', '1', 0.9, 0.05),
    fold('ssmb', 'vis-nir', '2', 0.8, 0.04),
    fold('ssmb', 'vis-nir', '3', 0.85, 0.06),
    fold('ssmb', 'vis-vis', '1', 0.1, 0.1), // column restricted to baseline: ignored
    fold('other', 'vis-nir', '1', 0.1, 0.1), // unknown row: ignored
  ];

  it('computes mean +- std over folds in percent, per row/column/metric', () => {
    const t = buildTable(smallTable(), results, { expectedFolds: { 'vis-vis': 1, 'vis-nir': 3 } });
    expect(t.rows.map((r) => r.id)).toEqual(['baseline', 'ssmb']);
    expect(t.metrics.map((m) => m.key)).toEqual(['rank1', 'tar_far_1e2', 'eer']);
    const base = t.rows[0].cells[1]!;
    expect(base[0].stat!.mean).toBeCloseTo(55, 10);
    expect(base[0].stat!.std).toBeCloseTo(5, 10);
    expect(base[0].stat!.n).toBe(3);
    expect(base[0].expected).toBe(3);
    const ssmb = t.rows[1].cells[1]!;
    expect(ssmb[0].stat!.mean).toBeCloseTo(85, 10);
    expect(ssmb[2].stat!.mean).toBeCloseTo(5, 10);
    expect(t.rows[1].cells[0]).toBeNull(); // not applicable
  });

  it('marks the significantly best of our rows, respecting the metric direction', () => {
    // three shared folds, the same way every time: paired t-test p = 0.035 (rank1), 0.025 (eer)
    const t = buildTable(smallTable(), results);
    const [base, ssmb] = t.rows.map((r) => r.cells[1]!);
    expect(ssmb[0].best).toBe(true); // rank1 higher
    expect(base[0].best).toBe(false);
    expect(ssmb[2].best).toBe(true); // eer lower (5 < 25)
    expect([base[0].tied, ssmb[0].tied]).toEqual([undefined, undefined]);
    expect(t.rows[0].cells[0]![0].best).toBe(false); // single row: nothing to compare
  });

  it('a higher mean that is not significantly higher is tied, not bold; trials let the bootstrap decide', () => {
    // 2 shared folds moving in opposite directions: no test excludes zero
    const close = [fold('baseline', 'vis-nir', '1', 0.5, 0.2), fold('baseline', 'vis-nir', '2', 0.6, 0.3), fold('ssmb', 'vis-nir', '1', 0.58, 0.25), fold('ssmb', 'vis-nir', '2', 0.54, 0.2)];
    const tied = buildTable(smallTable(), close);
    const [base, ssmb] = tied.rows.map((r) => r.cells[1]!);
    expect([base[0].best, ssmb[0].best, base[0].tied, ssmb[0].tied]).toEqual([false, false, true, true]);
    // one shared fold: no t-test; 2000 probes at 90% vs 50%: the bootstrap over probes separates them
    const withTrials = (r: FoldResult): FoldResult => ({ ...r, trials: { rank1: 2000, tar_far_1e2: 2000 } });
    const one = buildTable(smallTable(), [fold('baseline', 'vis-nir', '1', 0.5, 0.2), fold('ssmb', 'vis-nir', '1', 0.9, 0.1)].map(withTrials));
    expect(one.rows[1].cells[1]![0].best).toBe(true);
    expect(one.rows[1].cells[1]![1].best).toBe(true); // TAR@FAR: its genuine pairs as trials
    expect(one.rows.map((r) => r.cells[1]![2].tied)).toEqual([true, true]); // EER: nothing to resample, no t-test
  });

  it('lets a later result replace an earlier one for the same fold', () => {
    const t = buildTable(smallTable(), [fold('ssmb', 'vis-nir', '1', 0.2, 0.1), fold('ssmb', 'vis-nir', '1', 0.4, 0.1)]);
    expect(t.rows[1].cells[1]![0].stat).toMatchObject({ mean: 40, n: 1 });
  });

  it('puts literature numbers beside ours and adds reported rows', () => {
    const references = parseReferences({
      references: [
        { method: 'SSMB (paper)', row: 'ssmb', column: 'vis-nir', metric: 'rank1', mean: 97.5, std: 0.3, source: 'Paper A, Table 2' },
        { method: 'Other method', column: 'vis-nir', metric: 'eer', mean: 3.1, source: 'Paper B, Table 1' },
      ],
    });
    const t = buildTable(smallTable(), results, { references });
    expect(t.rows[1].cells[1]![0].reference).toMatchObject({ mean: 97.5, source: 'Paper A, Table 2' });
    const lit = t.rows[2];
    expect(lit).toMatchObject({ kind: 'literature', label: 'Other method', source: 'Paper B, Table 1' });
    expect(lit.cells[1]![2].stat).toEqual({ mean: 3.1, std: null, n: null });
    expect(lit.cells[1]![0].stat).toBeNull();
  });

  it('refuses references that name unknown rows or columns', () => {
    const bad = parseReferences({ references: [{ method: 'M', column: 'vis-thermal', metric: 'rank1', mean: 1, source: 'S' }] });
    expect(() => buildTable(smallTable(), [], { references: bad })).toThrow(/column "vis-thermal"/);
    const badRow = parseReferences({ references: [{ method: 'M', row: 'nope', column: 'vis-nir', metric: 'rank1', mean: 1, source: 'S' }] });
    expect(() => buildTable(smallTable(), [], { references: badRow })).toThrow(/row "nope"/);
  });

  it('accepts an empty references file', () => {
    expect(parseReferences({ references: null })).toEqual([]);
    expect(parseReferences(null)).toEqual([]);
    expect(() => parseReferences({ references: [{ method: 'M' }] }, 'r.yaml')).toThrow(/r\.yaml/);
  });
});
