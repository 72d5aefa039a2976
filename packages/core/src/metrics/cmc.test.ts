import { describe, expect, it } from 'vitest';
import { cmc, identificationRanks } from './cmc.ts';

const GALLERY = ['a', 'b', 'c'];
const PROBES = ['a', 'b', 'c', 'a'];
const SCORES = [
  [0.9, 0.5, 0.1], // a first -> rank 1
  [0.8, 0.6, 0.7], // b behind a and c -> rank 3
  [0.2, 0.3, 0.3], // c tied with b -> rank 2 (ties count against)
  [0.4, 0.1, 0.2], // rank 1
];

describe('cmc', () => {
  it('ranks each probe among gallery subjects, ties pessimistic', () => {
    expect(identificationRanks(SCORES, PROBES, GALLERY)).toEqual([1, 3, 2, 1]);
    expect(cmc(SCORES, PROBES, GALLERY)).toEqual([0.5, 0.75, 1]);
    expect(cmc(SCORES, PROBES, GALLERY, 2)).toEqual([0.5, 0.75]);
  });

  it('ranks subjects by their best gallery entry when a subject has several', () => {
    const gallery = ['a', 'a', 'b'];
    expect(identificationRanks([[0.1, 0.9, 0.5], [0.6, 0.2, 0.5]], ['a', 'b'], gallery)).toEqual([1, 2]);
  });

  it('names the probe whose subject is missing from the gallery and mis-sized rows', () => {
    expect(() => cmc([[0.1, 0.2, 0.3]], ['z'], GALLERY)).toThrow("probe 0 (subject 'z') has no gallery entry");
    expect(() => cmc([[0.1, 0.2]], ['a'], GALLERY)).toThrow('scores row 0 has 2 values, expected 3');
    expect(() => cmc(SCORES, ['a'], GALLERY)).toThrow('scores has 4 rows but probeSubjects has 1 entries');
    expect(() => cmc([[0.1, NaN, 0.3]], ['a'], GALLERY)).toThrow('scores[0][1] is NaN');
  });
});
