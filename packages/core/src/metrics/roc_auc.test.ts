import { describe, expect, it } from 'vitest';
import { rocAuc } from './roc_auc.ts';

function bruteForce(gen: number[], imp: number[]): number {
  let s = 0;
  for (const g of gen) for (const i of imp) s += g > i ? 1 : g === i ? 0.5 : 0;
  return s / (gen.length * imp.length);
}

describe('rocAuc', () => {
  it('is the share of correctly ordered genuine/impostor pairs', () => {
    // pairs: .8>.7, .8>.5, .6<.7, .6>.5 -> 3/4
    expect(rocAuc([0.8, 0.6], [0.7, 0.5])).toBe(0.75);
    expect(rocAuc([0.9], [0.1, 0.2])).toBe(1);
    expect(rocAuc([0.1], [0.9])).toBe(0);
  });

  it('counts ties as half', () => {
    // (.5 vs .5) = 1/2, (.9 vs .5) = 1 -> 1.5 / 2
    expect(rocAuc([0.5, 0.9], [0.5])).toBe(0.75);
    expect(rocAuc([0.3, 0.3], [0.3, 0.3, 0.3])).toBe(0.5);
  });

  it('agrees with the pairwise count on scores with many ties', () => {
    const gen = Array.from({ length: 40 }, (_, i) => Math.round(Math.sin(i) * 5) / 5);
    const imp = Array.from({ length: 30 }, (_, i) => Math.round(Math.cos(i * 1.7) * 5) / 5 - 0.2);
    // both are one division of an exact half-integer count: equal to the last bit
    expect(rocAuc(gen, imp)).toBe(bruteForce(gen, imp));
  });
});
