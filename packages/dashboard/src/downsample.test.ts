import { describe, expect, it } from 'vitest';
import { downsample, type Point } from './downsample.ts';

const series = (n: number, f: (i: number) => number): Point[] => Array.from({ length: n }, (_, i) => ({ step: i, value: f(i) }));

describe('downsample', () => {
  it('returns short series unchanged', () => {
    const pts = series(10, (i) => i * 2);
    expect(downsample(pts, 100)).toEqual({ points: pts, total: 10 });
  });

  it('keeps at most maxPoints, the first and last points, and every bucket extreme', () => {
    const pts = series(10_000, (i) => Math.sin(i / 50));
    pts[4321] = { step: 4321, value: 99 }; // a spike must survive
    pts[777] = { step: 777, value: -99 };
    const { points, total } = downsample(pts, 400);
    expect(total).toBe(10_000);
    expect(points.length).toBeLessThanOrEqual(400);
    expect(points.length).toBeGreaterThanOrEqual(200); // 100 buckets, first and last at least
    expect(points[0]).toEqual(pts[0]);
    expect(points.at(-1)).toEqual(pts.at(-1));
    expect(points.some((p) => p.value === 99)).toBe(true);
    expect(points.some((p) => p.value === -99)).toBe(true);
    for (let i = 1; i < points.length; i++) expect(points[i].step).toBeGreaterThan(points[i - 1].step);
  });

  it('rejects a tiny maxPoints naming the argument', () => {
    expect(() => downsample([], 2)).toThrow(/maxPoints must be an integer >= 4, received 2/);
  });
});
