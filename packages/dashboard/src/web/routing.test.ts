// Routing per block: tables, separation score and unused experts on counts with known answers.
import { describe, expect, it } from 'vitest';
import { routingNmi } from './format.ts';
import { blockRouting, routingByFold } from './routing.ts';

const row = (block: string, modality: string, expert: number, count: number, fold = '1') => ({ protocol: 'p', fold, block, modality, expert, count });

describe('routingNmi', () => {
  it('matches the closed form on a partly separated table; nothing to separate is null, not 0', () => {
    // 2x2 with p(m) = p(e) = 1/2 and p(agree) = 0.8: I = ln 2 - H_b(0.8), H(M) = H(E) = ln 2.
    const hb = -(0.8 * Math.log(0.8) + 0.2 * Math.log(0.2));
    expect(routingNmi([[40, 10], [10, 40]])).toBeCloseTo((Math.log(2) - hb) / Math.log(2), 12);
    expect(routingNmi([[3, 7]])).toBeNull(); // one modality (VIS-VIS)
    expect(routingNmi([[3, 7], [0, 0]])).toBeNull(); // a modality without images
    expect(routingNmi([[0, 0], [0, 0]])).toBeNull();
    expect(() => routingNmi([[1, -2]])).toThrow('routing counts: expected finite counts >= 0, received -2');
  });
});

describe('blockRouting', () => {
  it('per block in display order: counts summed over folds, NMI, and unused experts (also experts absent from the rows)', () => {
    const rows = [
      row('layer1', 'NIR', 1, 20), row('layer1', 'VIS', 0, 20),
      row('stem', 'VIS', 0, 20), row('stem', 'NIR', 0, 15), row('stem', 'NIR', 0, 5, '2'), row('stem', 'NIR', 2, 0, '2'),
    ];
    const b = blockRouting(rows, 4);
    expect(b.map((x) => x.block)).toEqual(['stem', 'layer1']);
    expect(b[0]).toMatchObject({ modalities: ['VIS', 'NIR'], experts: [0, 1, 2, 3], counts: [[20, 0, 0, 0], [20, 0, 0, 0]], nmi: 0, unused: [1, 2, 3] });
    expect(b[1].nmi).toBeCloseTo(1, 12);
    expect(b[1].unused).toEqual([2, 3]);
    // Without N only the experts seen are columns.
    expect(blockRouting(rows, null)[1].experts).toEqual([0, 1, 2]);
    expect(() => blockRouting(rows, 0)).toThrow('blockRouting: numExperts must be an integer >= 1 or null, received 0');
  });

  it('routingByFold splits rows per protocol and fold in the order the API sends them', () => {
    const split = routingByFold([row('stem', 'VIS', 0, 1), row('stem', 'VIS', 0, 2, '2'), row('layer1', 'VIS', 0, 3)]);
    expect(split.map((f) => [f.fold, f.rows.map((r) => r.count)])).toEqual([['1', [1, 3]], ['2', [2]]]);
  });
});
