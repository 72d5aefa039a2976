import { describe, expect, it } from 'vitest';
import { downsample } from './downsample.ts';

const series = (n: number, f: (i: number) => number) => ({ steps: Array.from({ length: n }, (_, i) => i), values: Array.from({ length: n }, (_, i) => f(i)) });

describe('downsample', () => {
  it('returns short series unchanged', () => {
    const s = series(10, (i) => i * 2);
    expect(downsample(s.steps, s.values, 100)).toEqual({ ...s, total: 10 });
  });

  it('keeps at most maxPoints, the first and last points, and every bucket extreme', () => {
    const s = series(10_000, (i) => Math.sin(i / 50));
    s.values[4321] = 99; // spikes must survive
    s.values[777] = -99;
    const d = downsample(s.steps, s.values, 400);
    expect(d.total).toBe(10_000);
    expect(d.steps.length).toBe(d.values.length);
    expect(d.steps.length).toBeLessThanOrEqual(400);
    expect(d.steps.length).toBeGreaterThanOrEqual(200); // 100 buckets, first and last at least
    expect([d.steps[0], d.values[0]]).toEqual([0, s.values[0]]);
    expect([d.steps.at(-1), d.values.at(-1)]).toEqual([9999, s.values[9999]]);
    expect(d.steps[d.values.indexOf(99)]).toBe(4321);
    expect(d.steps[d.values.indexOf(-99)]).toBe(777);
    for (let i = 1; i < d.steps.length; i++) expect(d.steps[i]).toBeGreaterThan(d.steps[i - 1]);
    // Every bucket's max is kept: the downsampled max equals the true max of each quarter of the series.
    for (let q = 0; q < 4; q++) {
      const lo = q * 2500;
      const hi = lo + 2500;
      const trueMax = Math.max(...s.values.slice(lo, hi));
      const kept = d.values.filter((_, i) => d.steps[i] >= lo && d.steps[i] < hi);
      expect(Math.max(...kept)).toBe(trueMax);
    }
  });

  it('rejects a tiny maxPoints and mismatched columns, naming the argument', () => {
    expect(() => downsample([], [], 2)).toThrow(/maxPoints must be an integer >= 4, received 2/);
    expect(() => downsample([1], [], 10)).toThrow(/same length, received 1 and 0/);
  });
});
