import { describe, expect, it } from 'vitest';
import { rankK } from './rank_k.ts';

describe('rankK', () => {
  const gallery = ['a', 'b', 'c'];
  const probes = ['a', 'b', 'c', 'a'];
  const scores = [[0.9, 0.5, 0.1], [0.8, 0.6, 0.7], [0.2, 0.3, 0.3], [0.4, 0.1, 0.2]];

  it('is the CMC value at k', () => {
    expect(rankK(scores, probes, gallery)).toBe(0.5);
    expect(rankK(scores, probes, gallery, 2)).toBe(0.75);
    expect(rankK(scores, probes, gallery, 3)).toBe(1);
    expect(rankK(scores, probes, gallery, 10)).toBe(1);
  });

  it('rejects k < 1', () => {
    expect(() => rankK(scores, probes, gallery, 0)).toThrow('k must be an integer >= 1, received 0');
  });
});
