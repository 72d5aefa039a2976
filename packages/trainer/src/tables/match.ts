// Assign stored runs to table cells by what they are, not by how they were launched: a run belongs to
// row R and column C when its resolved config agrees with the table's base + R.set + C.set overrides
// and it has an evaluation on C's protocol. So tables can be rebuilt from any store (dashboard, CLI).
import { rowsOfColumn, trainProtocolOf, type TableConfig } from './config.ts';
import type { FoldResult } from './build.ts';
import type { EvalRow } from '../store/types.ts';
import { configValueAt, flattenConfigValues } from '../flatten.ts';

/** What the matcher needs from a run (RunStore records map onto this). */
export interface MatchableRun {
  /** The run's resolved config (nested object). */
  config: unknown;
  /** Per-fold evaluations; metric values may be plain numbers or `{ value, count }` objects (count: the
   *  trials behind a proportion, for the significance tests). */
  evaluations: Array<{ protocol: string; fold: string; metrics: Record<string, number | { value: number; count?: number | null }> }>;
}


/** Config values compare by JSON so 4 === 4, [1,2] === [1,2], but '4' !== 4 (types matter in configs). */
function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Does the run's config carry every override (dotted keys)? */
export function configMatches(config: unknown, wanted: Record<string, unknown>): boolean {
  return Object.entries(wanted).every(([k, v]) => same(configValueAt(config, k), v));
}

/**
 * Which row of the table this run config is, for the given column; null if none. Two rows matching
 * the same run means the table config does not tell its rows apart: that is an error, not a guess.
 */
export function matchRow(cfg: TableConfig, columnId: string, config: unknown): string | null {
  const column = cfg.columns.find((c) => c.id === columnId);
  if (!column) throw new Error(`matchRow: column "${columnId}" is not in table "${cfg.name}"`);
  const common = { ...flattenConfigValues(cfg.base), ...flattenConfigValues(column.set) };
  if (!configMatches(config, common)) return null;
  // the run trained where the row trains in this column: the column's protocol, or a universal row's own
  // (a config naming no training protocol, built by hand, is matched on its overrides alone)
  const trainedOn = configValueAt(config, 'dataset.protocol');
  const hits = rowsOfColumn(cfg, column).filter((r) => (trainedOn === undefined || trainedOn === trainProtocolOf(r, column)) && configMatches(config, flattenConfigValues(r.set)));
  if (hits.length > 1) {
    throw new Error(
      `table "${cfg.name}": rows ${hits.map((h) => `"${h.id}"`).join(' and ')} both match the same run; ` +
        `add a distinguishing override to their "set" so each run belongs to one row`,
    );
  }
  return hits[0]?.id ?? null;
}

/** Trials behind each proportion of a fold: probes for Rank-k (the metric's count), genuine pairs for
 *  TAR@FAR (the fold's `genuine` metric); other metrics (EER, AUC) are not proportions of trials. */
export function trialsOf(metrics: Record<string, number>, counts: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(metrics)) {
    if (k.startsWith('rank') && counts[k] > 0) out[k] = counts[k];
    else if (k.startsWith('tar_far_') && metrics.genuine > 0) out[k] = metrics.genuine;
  }
  return out;
}

/**
 * Runs with their evaluations, as table matching reads them, from run records and the store's evaluation
 * rows (each value with what it was measured over, for the tables' significance tests). Runs with no
 * evaluation are left out.
 */
export function matchableRuns(records: Array<{ id: number; config: unknown }>, evals: EvalRow[]): MatchableRun[] {
  const byRun = new Map<number, MatchableRun['evaluations']>();
  for (const e of evals) {
    const list = byRun.get(e.runId) ?? [];
    let ev = list.find((x) => x.protocol === e.protocol && x.fold === e.fold);
    if (!ev) list.push((ev = { protocol: e.protocol, fold: e.fold, metrics: {} }));
    ev.metrics[e.metric] = { value: e.value, count: e.count };
    byRun.set(e.runId, list);
  }
  return records.filter((r) => byRun.has(r.id)).map((r) => ({ config: r.config, evaluations: byRun.get(r.id)! }));
}

/**
 * Per-fold results of the table from a list of runs (pass them oldest first: a later run of the same
 * cell and fold replaces an earlier one). Folds outside a column's fold list are ignored.
 */
export function foldResultsFromRuns(cfg: TableConfig, runs: MatchableRun[]): FoldResult[] {
  const out: FoldResult[] = [];
  for (const run of runs) {
    for (const ev of run.evaluations) {
      for (const column of cfg.columns) {
        if (column.protocol !== ev.protocol) continue;
        if (column.folds !== 'all' && !column.folds.includes(String(ev.fold))) continue;
        const row = matchRow(cfg, column.id, run.config);
        if (row === null) continue;
        const metrics: Record<string, number> = {};
        const counts: Record<string, number> = {};
        for (const [k, v] of Object.entries(ev.metrics)) {
          metrics[k] = typeof v === 'number' ? v : v.value;
          if (typeof v !== 'number' && typeof v.count === 'number') counts[k] = v.count;
        }
        const trials = trialsOf(metrics, counts);
        out.push({ row, column: column.id, fold: String(ev.fold), metrics, ...(Object.keys(trials).length ? { trials } : {}) });
      }
    }
  }
  return out;
}
