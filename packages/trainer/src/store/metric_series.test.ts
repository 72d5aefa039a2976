// Metric histories are downsampled in SQL (RunStore.metricSeries, what the dashboard plots), tested on a
// real temporary SQLite store: per step bucket the first, last, minimum and maximum points survive.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RunStore } from './run_store.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'ssmb-series-'));
let store: RunStore;
let run: number;
const N = 10_000;
const wave = Array.from({ length: N }, (_, i) => Math.sin(i / 50));
wave[4321] = 99; // spikes must survive
wave[777] = -99;

beforeAll(() => {
  store = RunStore.open(path.join(dir, 'runs.sqlite'));
  run = store.createRun({ experiment: 'e', kind: 'noop', config: {}, seed: 0 });
  store.logMetrics(run, [
    ...wave.map((value, step) => ({ key: 'wave', step, value })),
    ...Array.from({ length: 10 }, (_, i) => ({ key: 'short', step: i * 3, value: i * 2 })),
    // NaN (stored as NULL) is not plotted; ties keep the earliest step.
    ...Array.from({ length: 100 }, (_, i) => ({ key: 'flat', step: i, value: i === 50 ? Number.NaN : 1 })),
  ]);
});
afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('metricSeries (SQL downsampling)', () => {
  it('returns short series unchanged', () => {
    expect(store.metricSeries(run, 'short', 100)).toEqual({
      steps: Array.from({ length: 10 }, (_, i) => i * 3), values: Array.from({ length: 10 }, (_, i) => i * 2), total: 10, nan: 0,
    });
    expect(store.metricSeries(run, 'missing', 100)).toEqual({ steps: [], values: [], total: 0, nan: 0 });
  });

  it('keeps at most maxPoints, the first and last points, and every bucket extreme', () => {
    const d = store.metricSeries(run, 'wave', 400);
    expect(d.total).toBe(N);
    expect(d.steps.length).toBe(d.values.length);
    expect(d.steps.length).toBeLessThanOrEqual(400);
    expect(d.steps.length).toBeGreaterThanOrEqual(200); // 100 buckets, first and last at least
    expect([d.steps[0], d.values[0]]).toEqual([0, wave[0]]);
    expect([d.steps.at(-1), d.values.at(-1)]).toEqual([N - 1, wave[N - 1]]);
    expect(d.steps[d.values.indexOf(99)]).toBe(4321);
    expect(d.steps[d.values.indexOf(-99)]).toBe(777);
    for (let i = 1; i < d.steps.length; i++) expect(d.steps[i]).toBeGreaterThan(d.steps[i - 1]);
    for (let i = 0; i < d.steps.length; i++) expect(d.values[i]).toBe(wave[d.steps[i]]); // real points only
    // Buckets are 100-step ranges: each keeps its first and last step, its minimum and its maximum.
    for (let b = 0; b < 100; b++) {
      const slice = wave.slice(b * 100, b * 100 + 100);
      const kept = d.steps.filter((s) => s >= b * 100 && s < b * 100 + 100);
      expect(kept[0]).toBe(b * 100);
      expect(kept.at(-1)).toBe(b * 100 + 99);
      expect(kept).toContain(b * 100 + slice.indexOf(Math.min(...slice)));
      expect(kept).toContain(b * 100 + slice.indexOf(Math.max(...slice)));
    }
  });

  it('leaves NaN out, counts only plottable points, and keeps the earliest of tied extremes', () => {
    const d = store.metricSeries(run, 'flat', 8); // 2 buckets of 50 steps
    expect(d.total).toBe(99);
    expect(d.steps).toEqual([0, 49, 51, 99]);
    expect(d.values).toEqual([1, 1, 1, 1]);
  });

  it('rejects a tiny maxPoints, naming the argument', () => {
    expect(() => store.metricSeries(run, 'wave', 2)).toThrow(/maxPoints must be an integer >= 4, received 2/);
    expect(() => store.metricSeries(run, 'wave', 10.5)).toThrow(/maxPoints must be an integer >= 4, received 10.5/);
  });
});
