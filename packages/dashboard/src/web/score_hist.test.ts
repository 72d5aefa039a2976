import { describe, expect, it } from 'vitest';
import { binCentres, histogramSeries, sumHistograms, usedRange } from './score_hist.ts';

const h = (fold: string, genuine: number[], impostor: number[], outside = { genuine: 0, impostor: 0 }) => ({ protocol: 'p', fold, lo: -1, hi: 1, genuine, impostor, outside });

describe('score histograms as drawn', () => {
  it('each class as its share per bin, totals and what fell outside kept; folds summed bin by bin', () => {
    const a = h('1', [0, 0, 1, 3], [4, 4, 0, 0], { genuine: 1, impostor: 0 });
    const b = h('2', [0, 0, 0, 4], [2, 6, 0, 0]);
    const s = sumHistograms([a, b]);
    expect(s).toEqual({ lo: -1, hi: 1, genuine: [0, 0, 1, 7], impostor: [6, 10, 0, 0], outside: { genuine: 1, impostor: 0 } });
    const [g, i] = histogramSeries(s, 'run 3 ');
    expect(g).toEqual({ name: 'run 3 genuine', total: 8, outside: 1, share: [0, 0, 0.125, 0.875] });
    expect(i.share).toEqual([0.375, 0.625, 0, 0]);
    expect(binCentres(s)).toEqual([-0.75, -0.25, 0.25, 0.75]);
    expect(() => sumHistograms([a, { ...b, genuine: [1, 2], impostor: [1, 2] }])).toThrow('sumHistograms: p/2 has 2 bins over [-1, 1], p/1 4 over [-1, 1]');
    expect(() => sumHistograms([])).toThrow('sumHistograms: no histograms given');
  });

  it('draws the range the scores use, with an empty bin either side', () => {
    const x = h('1', [0, 0, 0, 0, 1, 0, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
    const r = usedRange(x, histogramSeries(x));
    expect(r[0]).toBeCloseTo(-0.8, 12);
    expect(r[1]).toBeCloseTo(0.2, 12);
    const edge = h('1', [1, 0], [0, 1]);
    expect(usedRange(edge, histogramSeries(edge))).toEqual([-1, 1]);
  });
});
