import { describe, expect, it } from 'vitest';
import { tarAtFar } from './tar_at_far.ts';

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
    const r = tarAtFar([0.5, 0.6], [0.5, 0.5, 0.2, 0.5], 0.5);
    expect(r.threshold).toBeGreaterThan(0.5);
    expect(r.threshold).toBeLessThan(0.5000001);
    expect(r).toMatchObject({ tar: 0.5, achievedFar: 0 });
    // FAR 75% allows 3: threshold 0.5 with the three ties accepted
    expect(tarAtFar([0.5, 0.4], [0.5, 0.5, 0.2, 0.5], 0.75)).toMatchObject({ threshold: 0.5, tar: 0.5, achievedFar: 0.75 });
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
