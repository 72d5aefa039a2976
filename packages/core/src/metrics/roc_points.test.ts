import { describe, expect, it } from 'vitest';
import { rocPoints } from './roc_points.ts';

describe('rocPoints', () => {
  it('lists every distinct threshold from (0, 0) to (1, 1)', () => {
    expect(rocPoints([0.9, 0.7], [0.8, 0.6])).toEqual([
      { far: 0, tar: 0, threshold: Infinity },
      { far: 0, tar: 0.5, threshold: 0.9 },
      { far: 0.5, tar: 0.5, threshold: 0.8 },
      { far: 0.5, tar: 1, threshold: 0.7 },
      { far: 1, tar: 1, threshold: 0.6 },
    ]);
  });

  it('merges tied scores into one point', () => {
    expect(rocPoints([0.5, 0.5], [0.5])).toEqual([
      { far: 0, tar: 0, threshold: Infinity },
      { far: 1, tar: 1, threshold: 0.5 },
    ]);
  });

  it('thins long curves on a log-FAR grid, keeping the ends and low-FAR detail', () => {
    const imp = Array.from({ length: 5000 }, (_, i) => (i * 0.6180339887) % 1);
    const gen = Array.from({ length: 500 }, (_, i) => 0.5 + ((i * 0.414213562) % 1) / 2);
    const full = rocPoints(gen, imp, { maxPoints: 100000 });
    const thin = rocPoints(gen, imp, { maxPoints: 40 });
    expect(full.length).toBeGreaterThan(1000);
    expect(thin.length).toBeLessThanOrEqual(40);
    expect(thin.length).toBeGreaterThan(20);
    expect(thin[0]).toEqual(full[0]);
    expect(thin[thin.length - 1]).toEqual(full[full.length - 1]);
    for (let i = 1; i < thin.length; i++) {
      expect(thin[i].far).toBeGreaterThanOrEqual(thin[i - 1].far);
      expect(thin[i].tar).toBeGreaterThanOrEqual(thin[i - 1].tar);
      expect(full).toContainEqual(thin[i]);
    }
    expect(thin.filter((p) => p.far > 0 && p.far <= 1e-3).length).toBeGreaterThanOrEqual(2);
  });

  it('rejects maxPoints < 2', () => {
    expect(() => rocPoints([1], [0], { maxPoints: 1 })).toThrow('maxPoints must be an integer >= 2, received 1');
  });
});
