import { describe, expect, it } from 'vitest';
import { eer } from './eer.ts';
import { referenceEer, tiedScores } from './metrics_reference.test-helpers.ts';

describe('eer', () => {
  it('is 0 for separated scores', () => {
    expect(eer([0.8, 0.9], [0.1, 0.2])).toEqual({ eer: 0, threshold: 0.8, fmr: 0, fnmr: 0 });
  });

  it('finds the threshold where FMR equals FNMR', () => {
    // at 0.6: impostors >= 0.6 -> {0.7} = 1/4; genuine < 0.6 -> {0.3} = 1/4
    expect(eer([0.3, 0.6, 0.8, 0.9], [0.1, 0.4, 0.5, 0.7])).toEqual({ eer: 0.25, threshold: 0.6, fmr: 0.25, fnmr: 0.25 });
  });

  it('averages FMR and FNMR where they are closest but never equal', () => {
    // 0.6: FMR 2/3, FNMR 1/2 (gap 1/6); 0.7: FMR 1/3, FNMR 1/2 (gap 1/6, not smaller: first kept)
    const r = eer([0.5, 0.9], [0.1, 0.6, 0.7]);
    expect(r.threshold).toBe(0.6);
    expect(r.eer).toBeCloseTo(7 / 12, 12);
  });

  it('handles all-tied scores (EER 0.5)', () => {
    expect(eer([0.5, 0.5], [0.5, 0.5])).toEqual({ eer: 0.5, threshold: 0.5, fmr: 1, fnmr: 0 });
  });

  it('gives an exact tie of |FMR - FNMR| to the lowest threshold (counts, not rounded rates)', () => {
    // 0.5: FMR 3/10, FNMR 1/5 (gap 1/10); 0.6: FMR 1/10, FNMR 1/5 (gap 1/10): a tie, 0.5 wins.
    // In doubles 1 - 4/5 = 0.19999999999999996, which made 0.6 look closer (EER 0.15).
    const r = eer([0.9, 0.7, 0.8, 0.6, 0.2], [0.6, -0.3, 0.2, 0.2, -0.0, 0.5, 0.2, 0.2, 0.5, 0.2]);
    expect(r).toEqual({ eer: 0.25, threshold: 0.5, fmr: 0.3, fnmr: 0.2 });
  });

  it('agrees with a brute-force count over every threshold on tied scores (small and 1,000 x 2,000)', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const levels = 4 + (seed % 9);
      const gen = tiedScores(3 + (seed % 7), seed, levels, 0.3);
      const imp = tiedScores(5 + (seed % 11), seed + 1000, levels);
      const ref = referenceEer(gen, imp);
      const r = eer(gen, imp);
      expect({ t: r.threshold, fmr: r.fmr, fnmr: r.fnmr }, `seed ${seed}`).toEqual({ t: ref.threshold, fmr: ref.fa / imp.length, fnmr: ref.fr / gen.length });
      expect(r.eer, `seed ${seed}`).toBeCloseTo(ref.eer, 15);
    }
    const gen = tiedScores(1000, 7, 20, 0.25);
    const imp = tiedScores(2000, 8, 20);
    const ref = referenceEer(gen, imp);
    expect(eer(gen, imp)).toMatchObject({ threshold: ref.threshold, fmr: ref.fa / 2000, fnmr: ref.fr / 1000 });
  });

  it('rejects empty inputs', () => {
    expect(() => eer([0.1], [])).toThrow('impostor is empty');
  });
});
