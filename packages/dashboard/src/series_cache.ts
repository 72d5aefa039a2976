// Metric histories kept in memory between requests. A completed run's history never changes; within one
// attempt a live run only appends, so a request reads just the rows inserted after the cached ones (by
// rowid). A new attempt (a resumed run drops the steps after its checkpoint and logs them again; SQLite
// may even reuse the dropped rowids) or a history that lost rows is read again in full.
import { LruCache } from './cache.ts';
import type { DashboardQueries, MetricKeyInfo } from './store.ts';

interface Entry {
  steps: number[];
  values: number[];
  rows: number;
  maxRowid: number;
  attempts: number;
  lastStep: number;
  lastTime: number;
}

export class SeriesCache {
  private cache: LruCache<Entry>;
  constructor(
    private readonly q: DashboardQueries,
    maxSeries = 48,
  ) {
    this.cache = new LruCache(maxSeries);
  }

  /**
   * The full history of (runId, key). `latest` is the series' metrics_latest row (undefined = none),
   * `attempts` the run's attempt count.
   */
  get(runId: number, key: string, latest: MetricKeyInfo | undefined, attempts: number): { steps: number[]; values: number[] } {
    if (!latest) return { steps: [], values: [] };
    const id = `${runId}|${key}`;
    const c = this.cache.get(id);
    if (c && c.attempts === attempts && c.lastStep === latest.lastStep && c.lastTime === latest.lastTime) return c;
    if (c && c.attempts === attempts) {
      const tail = this.q.metricSeries(runId, key, c.maxRowid);
      // Append only when the new rows all follow the cached ones and none of the cached rows went away.
      if (tail.minStep > c.lastStep && this.q.metricRowCount(runId, key) === c.rows + tail.rows) {
        const next = {
          steps: c.steps.concat(tail.steps), values: c.values.concat(tail.values), rows: c.rows + tail.rows,
          maxRowid: tail.maxRowid, attempts, lastStep: latest.lastStep, lastTime: latest.lastTime,
        };
        this.cache.set(id, next);
        return next;
      }
    }
    const full = this.q.metricSeries(runId, key);
    const entry = { steps: full.steps, values: full.values, rows: full.rows, maxRowid: full.maxRowid, attempts, lastStep: latest.lastStep, lastTime: latest.lastTime };
    this.cache.set(id, entry);
    return entry;
  }
}
