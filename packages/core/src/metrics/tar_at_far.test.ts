import { describe, expect, it } from 'vitest';
import { allowedFalseAccepts, tarAtFar } from './tar_at_far.ts';
import { rocPoints } from './roc_points.ts';
import { referenceTarAtFar, tiedScores } from './metrics_reference.test-helpers.ts';

const IMP10 = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95];

describe('tarAtFar', () => {
  it('sets the threshold on impostors only and accepts scores >= threshold', () => {
    const gen = [0.96, 0.9, 0.5, 0.3];
    // FAR 10% of 10 impostors: one false accept allowed -> threshold = highest impostor 0.95
    expect(tarAtFar(gen, IMP10, 0.1)).toEqual({ far: 0.1, tar: 0.25, threshold: 0.95, achievedFar: 0.1, impostorCount: 10 });
    // FAR 20%: two allowed -> threshold 0.9, and the genuine 0.9 (equal) is accepted
    expect(tarAtFar(gen, IMP10, 0.2)).toMatchObject({ tar: 0.5, threshold: 0.9, achievedFar: 0.2 });
    // FAR 15% allows 1.5 -> still one false accept
    expect(tarAtFar(gen, IMP10, 0.15)).toMatchObject({ tar: 0.25, threshold: 0.95, achievedFar: 0.1 });
  });

  it('accepts a genuine score that sits between two impostors when the FAR allows it (the ROC point)', () => {
    // one false accept allowed: any threshold in (0.9, 0.95] keeps FAR at 10%; 0.92 accepts the genuine
    expect(tarAtFar([0.92, 0.3], IMP10, 0.1)).toEqual({ far: 0.1, tar: 0.5, threshold: 0.92, achievedFar: 0.1, impostorCount: 10 });
    // no false accept allowed beyond the highest impostor: the genuine above it still counts at FAR 10%
    expect(tarAtFar([0.97, 0.96], IMP10, 0.1)).toMatchObject({ tar: 1, threshold: 0.95 });
  });

  it('equals the highest TAR on the full ROC with FAR <= target, and a brute-force scan, on tied scores', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const levels = 5 + (seed % 13);
      const gen = tiedScores(4 + (seed % 9), seed, levels, 0.2);
      const imp = tiedScores(10 + (seed % 37), seed + 500, levels);
      const roc = rocPoints(gen, imp, { maxPoints: 100000 });
      for (const far of [0.01, 0.05, 0.1, 0.29, 0.5, 1]) {
        const r = tarAtFar(gen, imp, far);
        const ref = referenceTarAtFar(gen, imp, far);
        if (Number.isNaN(ref.tar)) {
          expect(r.tar, `seed ${seed} far ${far}`).toBeNaN();
          continue;
        }
        expect(r.tar, `seed ${seed} far ${far}`).toBe(ref.tar);
        expect(r.achievedFar, `seed ${seed} far ${far}`).toBe(ref.fa / imp.length);
        if (Number.isFinite(ref.threshold)) expect(r.threshold, `seed ${seed} far ${far}`).toBe(ref.threshold);
        expect(r.tar).toBe(Math.max(...roc.filter((p) => p.far <= far).map((p) => p.tar)));
      }
    }
  });

  it('allows the largest k with k / n <= far, in the arithmetic achievedFar is reported in', () => {
    for (const n of [3, 7, 10, 100, 1000, 12345, 1e6]) {
      for (const far of [1e-4, 1e-3, 1e-2, 0.07, 0.1, 0.29, 1 / 3, 0.57, 0.7, 1]) {
        const k = allowedFalseAccepts(far, n);
        expect(k / n <= far, `n ${n} far ${far}`).toBe(true);
        if (k < n) expect((k + 1) / n > far, `n ${n} far ${far}`).toBe(true);
      }
    }
  });

  it('gives NaN when the FAR is below 1 / number of impostors', () => {
    const r = tarAtFar([0.9], IMP10, 0.05);
    expect(r.tar).toBeNaN();
    expect(r.threshold).toBeNaN();
    expect(r.impostorCount).toBe(10);
    const [a, b] = tarAtFar([0.97], IMP10, [0.001, 0.1]);
    expect(a.tar).toBeNaN();
    expect(b.tar).toBe(1);
  });

  it('raises the threshold past tied impostors rather than exceed the FAR', () => {
    // sorted impostors 0.2, 0.5, 0.5, 0.5: FAR 50% allows 2, but 0.5 would let 3 through
    // (reported threshold: the lowest score above the tied run, 0.6; just above 0.5 when there is none)
    expect(tarAtFar([0.5, 0.6], [0.5, 0.5, 0.2, 0.5], 0.5)).toMatchObject({ threshold: 0.6, tar: 0.5, achievedFar: 0 });
    const r = tarAtFar([0.5, 0.4], [0.5, 0.5, 0.2, 0.5], 0.5);
    expect(r.threshold).toBeGreaterThan(0.5);
    expect(r.threshold).toBeLessThan(0.5000001);
    expect(r).toMatchObject({ tar: 0, achievedFar: 0 });
    // FAR 75% allows 3: the three ties accepted, and so is the genuine 0.4 above the rejected 0.2
    expect(tarAtFar([0.5, 0.4], [0.5, 0.5, 0.2, 0.5], 0.75)).toMatchObject({ threshold: 0.4, tar: 1, achievedFar: 0.75 });
    expect(tarAtFar([0.5, 0.1], [0.5, 0.5, 0.2, 0.5], 0.75)).toMatchObject({ threshold: 0.5, tar: 0.5, achievedFar: 0.75 });
  });

  it('counts allowed false accepts without float noise (0.29 x 100 = 29)', () => {
    const imp = Array.from({ length: 100 }, (_, i) => i / 100);
    expect(tarAtFar([1], imp, 0.29)).toMatchObject({ threshold: 0.71, achievedFar: 0.29 });
  });

  it('rejects empty or non-finite scores and a FAR outside [0, 1]', () => {
    expect(() => tarAtFar([], IMP10, 0.1)).toThrow('genuine is empty');
    expect(() => tarAtFar([0.1], [0.2, NaN], 0.1)).toThrow('impostor[1] is NaN');
    expect(() => tarAtFar([0.1], IMP10, 1.5)).toThrow('far must be in [0, 1], received 1.5');
  });
});
