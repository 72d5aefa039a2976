// Routing separation (NMI between modality and expert) on distributions with known answers, unused
// experts, and the heatmap's text contrast over its whole colour ramp.
import { describe, expect, it } from 'vitest';
import { compareBlocks, compareModalities } from '@ssmb/trainer/display-order';
import { blockRouting, contrastRatio, heatRgb, normalizedMutualInfo, textOn } from './routing.ts';

const order = { blocks: compareBlocks, modalities: compareModalities };

describe('normalizedMutualInfo', () => {
  it('is 1 when each modality has its own expert, 0 when routing ignores the modality', () => {
    expect(normalizedMutualInfo([[50, 0], [0, 50]])).toBeCloseTo(1, 12);
    expect(normalizedMutualInfo([[10, 0, 0], [0, 30, 0], [0, 0, 5]])).toBeCloseTo(1, 12);
    // same expert mix for both modalities: independent
    expect(normalizedMutualInfo([[30, 10], [60, 20]])).toBeCloseTo(0, 12);
    // every image to one expert: H(E) = 0
    expect(normalizedMutualInfo([[40, 0], [25, 0]])).toBe(0);
  });

  it('matches the closed form on a partly separated table', () => {
    // 2x2, p(m) = p(e) = 1/2, p(agree) = 0.8: I = ln2 - H_b(0.8) (nats), H(M) = H(E) = ln2
    const hb = -(0.8 * Math.log(0.8) + 0.2 * Math.log(0.2));
    expect(normalizedMutualInfo([[40, 10], [10, 40]])).toBeCloseTo((Math.log(2) - hb) / Math.log(2), 12);
    // scikit-learn normalized_mutual_info_score([0]*40+[0]*10+[1]*10+[1]*40, [0]*40+[1]*10+[0]*10+[1]*40) = 0.2780719...
    expect(normalizedMutualInfo([[40, 10], [10, 40]])).toBeCloseTo(0.27807190511263774, 10);
  });

  it('has nothing to separate with one modality or no images; bad counts are an error naming the value', () => {
    expect(normalizedMutualInfo([[3, 7]])).toBeNull();
    expect(normalizedMutualInfo([[0, 0], [0, 0]])).toBeNull();
    expect(() => normalizedMutualInfo([[1, -2]])).toThrow('routing counts: expected finite counts >= 0, received -2');
  });
});

describe('blockRouting', () => {
  it('per block: NMI, and experts no image uses (also those absent from the rows)', () => {
    const rows = [
      { protocol: 'p', fold: '1', block: 'layer1', modality: 'NIR', expert: 1, count: 20 },
      { protocol: 'p', fold: '1', block: 'layer1', modality: 'VIS', expert: 0, count: 20 },
      { protocol: 'p', fold: '1', block: 'stem', modality: 'VIS', expert: 0, count: 20 },
      { protocol: 'p', fold: '1', block: 'stem', modality: 'NIR', expert: 0, count: 20 },
      { protocol: 'p', fold: '2', block: 'stem', modality: 'NIR', expert: 2, count: 0 },
    ];
    const b = blockRouting(rows, 4, order);
    expect(b.map((x) => x.block)).toEqual(['stem', 'layer1']);
    expect(b[0].modalities).toEqual(['VIS', 'NIR']);
    expect(b[0].experts).toEqual([0, 1, 2, 3]);
    expect(b[0]).toMatchObject({ nmi: 0, unused: [1, 2, 3], counts: [[20, 0, 0, 0], [20, 0, 0, 0]] });
    expect(b[1].nmi).toBeCloseTo(1, 12);
    expect(b[1].unused).toEqual([2, 3]);
  });
});

describe('heatmap text contrast', () => {
  it('every share from 0 to 100% gets text at >= 4.5:1 (WCAG AA)', () => {
    for (let i = 0; i <= 200; i++) {
      const bg = heatRgb(i / 200);
      expect(contrastRatio(bg, textOn(bg)), `share ${i / 2}%`).toBeGreaterThanOrEqual(4.5);
    }
  });

  it('the old rule (white text above 50%, #1d2330 below) fell short of 4.5:1', () => {
    const old = (s: number) => contrastRatio(heatRgb(s), s > 0.5 ? [255, 255, 255] : [0x1d, 0x23, 0x30]);
    expect(old(0.51)).toBeLessThan(3);
    expect(contrastRatio([255, 255, 255], [0, 0, 0])).toBeCloseTo(21, 10);
  });
});
