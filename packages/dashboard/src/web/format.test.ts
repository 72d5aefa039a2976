import { describe, expect, it } from 'vitest';
import { metricSpecs } from '../analysis.ts';
import { fmtMetric, skippedEntries } from './format.ts';

describe('run detail: skipped list entries', () => {
  it('sums the skipped_<role> eval metrics over folds for the notice, and shows them as counts', () => {
    const evals = [
      { metric: 'rank1', value: 0.9 },
      { metric: 'skipped_probe', value: 2 },
      { metric: 'skipped_gallery', value: 0 },
      { metric: 'skipped_probe', value: 1 },
      { metric: 'skipped_train', value: 4 },
    ];
    expect(skippedEntries(evals)).toBe('4 train, 3 probe');
    expect(skippedEntries([{ metric: 'skipped_probe', value: 0 }, { metric: 'rank1', value: 1 }])).toBeNull();
    const spec = metricSpecs(['skipped_probe']).skipped_probe;
    expect(spec.label).toBe('Skipped probe entries');
    expect(fmtMetric(3, spec)).toBe('3');
  });
});
