// Read the table's numbers back from the run store: per-fold metrics of each completed grid entry,
// and the routing counts of its probes (from the store, or what the tracking server sent of it).
import type { FoldResult } from '../tables/build.ts';
import type { RoutingCountRow } from '../tables/routing.ts';
import type { RunStore } from '../store/run_store.ts';
import type { PlannedEntry } from './resume.ts';

/** A planned entry and the id of the run it maps to (from the store, or as the tracking server answered it). */
type EntryRun = Pick<PlannedEntry, 'entry' | 'state'> & { run?: { id: number } | null };

/** Per-fold results of the completed entries (entries whose run did not evaluate their fold are skipped). */
export function collectFoldResults(store: Pick<RunStore, 'getEvalMetrics'>, plan: EntryRun[]): FoldResult[] {
  const out: FoldResult[] = [];
  for (const p of plan) {
    if (p.state !== 'completed' || !p.run) continue;
    const metrics: Record<string, number> = {};
    const counts: Record<string, number> = {};
    for (const m of store.getEvalMetrics(p.run.id)) {
      if (m.protocol !== p.entry.protocol || String(m.fold) !== p.entry.fold) continue;
      metrics[m.metric] = m.value;
      if (m.count !== null) counts[m.metric] = m.count;
    }
    if (Object.keys(metrics).length) out.push({ row: p.entry.row, column: p.entry.column, fold: p.entry.fold, metrics, counts });
  }
  return out;
}

/** Routing counts of the completed entries, optionally only some columns (e.g. VIS-UNIVERSAL). */
export function collectRouting(store: Pick<RunStore, 'getRouting'>, plan: EntryRun[], columns?: string[]): RoutingCountRow[] {
  const out: RoutingCountRow[] = [];
  for (const p of plan) {
    if (p.state !== 'completed' || !p.run) continue;
    if (columns && !columns.includes(p.entry.column)) continue;
    for (const r of store.getRouting(p.run.id)) {
      if (r.protocol !== p.entry.protocol || String(r.fold) !== p.entry.fold) continue;
      out.push({ row: p.entry.row, column: p.entry.column, block: r.block, modality: r.modality, expert: r.expert, count: r.count });
    }
  }
  return out;
}
