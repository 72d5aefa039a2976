// Read the table's numbers back from the run store: per-fold metrics of each completed grid entry,
// and the routing counts of its probes (from the store, or what the tracking server sent of it).
import type { FoldResult } from '../tables/build.ts';
import type { RoutingCountRow } from '../tables/routing.ts';
import type { RunStore } from '../store/run_store.ts';
import type { PlannedEntry } from './resume.ts';
import { trialsOf } from '../tables/match.ts';
import { cellsOf } from './grid.ts';

/** A planned entry and the id of the run it maps to (from the store, or as the tracking server answered it). */
type EntryRun = Pick<PlannedEntry, 'entry' | 'state'> & { run?: { id: number } | null };

/** Per-fold results of the completed entries (entries whose run did not evaluate their fold are skipped). */
export function collectFoldResults(store: Pick<RunStore, 'getEvalMetrics'>, plan: EntryRun[]): FoldResult[] {
  const out: FoldResult[] = [];
  for (const p of plan) {
    if (p.state !== 'completed' || !p.run) continue;
    const evals = store.getEvalMetrics(p.run.id);
    // the cells the entry fills: its column, or each column a universal row's run evaluates
    for (const cell of cellsOf(p.entry)) {
      const metrics: Record<string, number> = {};
      const counts: Record<string, number> = {};
      for (const m of evals) {
        if (m.protocol !== cell.protocol || String(m.fold) !== p.entry.fold) continue;
        metrics[m.metric] = m.value;
        if (typeof m.count === 'number') counts[m.metric] = m.count;
      }
      const trials = trialsOf(metrics, counts);
      if (Object.keys(metrics).length) out.push({ row: p.entry.row, column: cell.column, fold: p.entry.fold, metrics, ...(Object.keys(trials).length ? { trials } : {}) });
    }
  }
  return out;
}

/** Routing counts of the completed entries, optionally only some columns (e.g. VIS-UNIVERSAL). */
export function collectRouting(store: Pick<RunStore, 'getRouting'>, plan: EntryRun[], columns?: string[]): RoutingCountRow[] {
  const out: RoutingCountRow[] = [];
  for (const p of plan) {
    if (p.state !== 'completed' || !p.run) continue;
    for (const cell of cellsOf(p.entry)) {
      if (columns && !columns.includes(cell.column)) continue;
      for (const r of store.getRouting(p.run.id)) {
        if (r.protocol !== cell.protocol || String(r.fold) !== p.entry.fold) continue;
        out.push({ row: p.entry.row, column: cell.column, block: r.block, modality: r.modality, expert: r.expert, count: r.count });
      }
    }
  }
  return out;
}
