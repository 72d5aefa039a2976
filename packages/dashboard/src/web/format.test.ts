import { describe, expect, it } from 'vitest';
import { metricSpecs } from '../analysis.ts';
import { convergenceText, fmtMetric, skippedEntries } from './format.ts';

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

describe('run detail: convergence line', () => {
  it('states the fixed-pair change against the threshold, the minibatch figure, or why not measurable', () => {
    const minibatch = { measurable: true as const, change: 0.032, firstMean: 1, secondMean: 0.968, points: 30, cv: 0.17 };
    expect(convergenceText({ totalSteps: 150, threshold: 0.05, minibatch, fixed: { measurable: true, change: 0.0087, from: { step: 120, value: 0.63551 }, to: { step: 150, value: 0.63 }, estimatesAfterStart: 2 } }))
      .toBe('Convergence: the loss on fixed pairs changed 0.9% over the last fifth (step 120 -> 150: 0.6355 -> 0.63), under 5% · minibatch loss 3.2% (second half of the last fifth vs the first; a new batch each step, CV 17.0%)');
    expect(convergenceText({ totalSteps: 150, threshold: 0.05, minibatch: { measurable: false, reason: 'r2' }, fixed: { measurable: true, change: 0.06, from: { step: 120, value: 1 }, to: { step: 150, value: 0.94 }, estimatesAfterStart: 2 } }))
      .toMatch(/changed 6\.0% .*not under 5% · minibatch loss not measurable \(r2\)$/);
    expect(convergenceText({ totalSteps: 150, threshold: 0.05, minibatch, fixed: { measurable: false, reason: 'no loss/fixed estimates' } })).toMatch(/^Convergence: not measurable \(no loss\/fixed estimates\) · minibatch loss 3\.2%/);
  });
});

describe('routing readability', () => {
  it('NMI between modality and expert: 1 when each modality has its own expert, 0 when all spread alike', async () => {
    const { routingNmi, textOn, luminance } = await import('./format.ts');
    expect(routingNmi([[40, 0], [0, 40]])).toBeCloseTo(1, 12);
    expect(routingNmi([[20, 20], [10, 10]])).toBeCloseTo(0, 12);
    expect(routingNmi([[40, 0, 0, 0], [40, 0, 0, 0]])).toBe(0); // one expert takes everything: nothing separated
    const partial = routingNmi([[40, 5], [5, 40]]);
    expect(partial).toBeGreaterThan(0.3);
    expect(partial).toBeLessThan(0.7);
    // Text on a light heat cell is dark (white on it was ~2.3:1), on a dark one white; both at least 4.5:1.
    const ratio = (a: number, b: number) => (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    for (const bg of [[144, 175, 245], [40, 102, 235], [250, 251, 255]] as Array<[number, number, number]>) {
      const fg = textOn(bg) === '#fff' ? 1 : luminance([0x1d, 0x23, 0x30]);
      expect(ratio(luminance(bg), fg), String(bg)).toBeGreaterThanOrEqual(4.5);
    }
    expect(textOn([144, 175, 245])).toBe('#1d2330');
  });
});
