import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RunStore } from '@ssmb/trainer';
import { wrapStore } from './store.ts';
import { SeriesCache } from './series_cache.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'ssmb-series-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('SeriesCache', () => {
  it('appends a live run\'s new points, and re-reads a history rewritten by a resumed attempt', () => {
    const store = RunStore.open(path.join(dir, 'runs.sqlite'));
    const { queries: q } = wrapStore(store);
    const id = store.createRun({ experiment: 'e', kind: 'noop', config: {}, seed: 0 });
    const log = (from: number, to: number, f: (s: number) => number) =>
      store.logMetrics(id, Array.from({ length: to - from }, (_, i) => ({ key: 'loss', step: from + i, value: f(from + i) })));
    const cache = new SeriesCache(q);
    const latest = () => q.metricKeys(id).find((k) => k.key === 'loss');
    const attempts = () => q.runStates([id])[0].attempts;
    store.claimRun('w1', -1000, { runId: id, kinds: ['noop'] }); // its lease is already over: the worker will look dead
    log(0, 100, (s) => s);
    expect(cache.get(id, 'loss', latest(), attempts()).steps).toHaveLength(100);
    log(100, 150, (s) => s);
    log(150, 151, () => Number.NaN); // NaN is stored as NULL: counted as a row, not plotted
    const appended = cache.get(id, 'loss', latest(), attempts());
    expect(appended.steps).toHaveLength(150);
    expect(appended.values.at(-1)).toBe(149);
    // The worker dies; the next attempt resumes from step 120: later steps are dropped and logged again
    // with other values (SQLite reuses the dropped rowids, so only the attempt count tells).
    expect(store.claimRun('w2', 60_000, { runId: id, kinds: ['noop'] })!.attempts).toBe(2); // re-queued, claimed again
    store.truncateMetricsAfter(id, 120);
    log(121, 200, (s) => -s);
    const rewritten = cache.get(id, 'loss', latest(), attempts());
    expect(q.metricSeries(id, 'loss').steps).toHaveLength(200);
    expect(rewritten.steps).toHaveLength(200);
    expect(rewritten.values[150]).toBe(-150);
    const truth = q.metricSeries(id, 'loss');
    expect(rewritten.steps).toEqual(truth.steps);
    expect(rewritten.values).toEqual(truth.values);
    // Unchanged history: served from memory (same arrays).
    expect(cache.get(id, 'loss', latest(), attempts())).toBe(rewritten);
    expect(cache.get(id, 'loss', undefined, 0)).toEqual({ steps: [], values: [] });
    store.close();
  });
});
