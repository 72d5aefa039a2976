import { describe, expect, it } from 'vitest';
import { binScores, SCORE_BINS, scoreHistogram } from './score_histogram.ts';

const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);

describe('score histograms', () => {
  it('bins on fixed edges: each score in its bin, hi in the last bin, rounding past +-1 in the edge bins', () => {
    const { counts, outside } = binScores([-1, -0.99, -0.98, 0, 0.01, 0.999, 1, 1.00001, -1.00001]);
    expect(counts).toHaveLength(SCORE_BINS.bins);
    expect(counts[0]).toBe(3); // -1, -0.99 and -1.00001 (width 0.02)
    expect(counts[1]).toBe(1); // -0.98
    expect(counts[50]).toBe(2); // 0 and 0.01
    expect(counts[99]).toBe(3); // 0.999, 1, 1.00001
    expect(outside).toBe(0);
    expect(sum(counts)).toBe(9);
  });

  it('drops nothing: NaN and scores past the range are counted outside, so the totals equal the comparisons', () => {
    const genuine = [0.8, 0.9, Number.NaN, 1.5];
    const impostor = Array.from({ length: 1000 }, (_, i) => -0.4995 + i / 1000); // none on a bin edge
    const h = scoreHistogram(genuine, impostor);
    expect(h.outside).toEqual({ genuine: 2, impostor: 0 });
    expect(sum(h.genuine) + h.outside.genuine).toBe(genuine.length);
    expect(sum(h.impostor) + h.outside.impostor).toBe(impostor.length);
    // impostors spread evenly over (-0.5, 0.5): 50 bins of 20 each
    expect(h.impostor.filter((c) => c > 0)).toEqual(new Array(50).fill(20));
    expect(h.impostor.indexOf(20)).toBe(25);
  });

  it('a bad bin spec is an error naming what it received', () => {
    expect(() => binScores([0], { lo: 1, hi: 0, bins: 10 })).toThrow('binScores: expected finite lo < hi, received lo=1 hi=0');
    expect(() => binScores([0], { lo: 0, hi: 1, bins: 0 })).toThrow('binScores: expected an integer number of bins >= 1, received 0');
  });
});
