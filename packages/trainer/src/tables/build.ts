// Paper table = rows (methods/settings) x columns (protocols) x metrics; each cell is mean +- std over
// folds, with literature numbers beside ours. Pure: callers pass per-fold results, no I/O here.
import { rowsOfColumn, tableMetricSpec, type TableConfig } from './config.ts';
import { SKIPPED_METRICS, type MetricSpec } from './metrics.ts';
import type { Reference } from './references.ts';
import { rankGroups, type FoldValue } from './significance.ts';

/** One evaluated fold of one run, already assigned to a table row and column. */
export interface FoldResult {
  row: string;
  column: string;
  fold: string;
  /** Stored metric values (fractions for percentages), keyed like MetricSpec.key. */
  metrics: Record<string, number>;
  /** What each value was measured over, where the store has it (probes for Rank-k, impostor pairs for
   *  TAR@FAR and EER): the bootstrap over probes resamples a proportion from its trials. */
  counts?: Record<string, number>;
  /** The fold the significance tests pair rows on, when `fold` also tells apart several runs of one fold
   *  (the dashboard's "3#17"); the runs of one fold are averaged there. Default: `fold`. */
  pairFold?: string;
}

export interface Stat {
  mean: number;
  /** Sample standard deviation over folds (n - 1 denominator); 0 when n = 1; null = not reported. */
  std: number | null;
  /** Folds averaged; null for literature numbers. */
  n: number | null;
}

export interface TableCell {
  metric: string;
  /** Display units (percent where the metric is a percentage); null = no completed fold yet. */
  stat: Stat | null;
  /** Folds expected for this cell (null = unknown). */
  expected: number | null;
  /** Significantly best of our rows in this column/metric (paired t-test over folds and bootstrap over
   *  probes, both at 5%, against every other row): what is bold. */
  best: boolean;
  /** Not significantly different from the row with the best mean (that row included) when no row is
   *  significantly best: marked tied, none bold. */
  tied?: boolean;
  /** Our rows: the value per paired fold (stored units, with its trials) that the significance tests
   *  use, so a reader can test any two cells (groupDifference) as the table did. */
  folds?: FoldValue[];
  /** Literature number placed beside ours. */
  reference?: Reference;
  /** List entries the cell's folds left out because their files are missing (dataset.onMissing=skip),
   *  summed over folds per role; absent when none were. Exporters mark the cell and footnote the counts. */
  skipped?: Partial<Record<keyof typeof SKIPPED_METRICS, number>>;
}

/** Skipped entries per role summed over a cell's folds; undefined when there are none. */
export function skippedOf(folds: Iterable<Record<string, number>>): TableCell['skipped'] {
  const out: NonNullable<TableCell['skipped']> = {};
  for (const f of folds) {
    for (const [role, key] of Object.entries(SKIPPED_METRICS) as [keyof typeof SKIPPED_METRICS, string][]) {
      if (Number.isFinite(f[key]) && f[key] > 0) out[role] = (out[role] ?? 0) + f[key];
    }
  }
  return Object.keys(out).length ? out : undefined;
}

export interface TableColumnOut {
  id: string;
  label: string;
  protocol: string;
}

export interface TableRowOut {
  id: string;
  label: string;
  kind: 'ours' | 'literature';
  /** Literature rows: where the numbers come from. */
  source?: string;
  /** cells[columnIndex][metricIndex]; null when the row does not apply to the column. */
  cells: Array<TableCell[] | null>;
}

export interface PaperTable {
  name: string;
  title: string;
  caption?: string;
  /** Header of the row-label column (default "Method"). */
  rowHeader?: string;
  metrics: MetricSpec[];
  columns: TableColumnOut[];
  rows: TableRowOut[];
}

/** Trials behind a proportion: probes for Rank-k, genuine pairs for TAR@FAR; none for EER, AUC, counts. */
function trialsOf(metric: string, metrics: Record<string, number>, counts: Record<string, number>): number | undefined {
  if (/^rank\d+$/.test(metric)) return counts[metric];
  if (metric.startsWith('tar_far_')) return metrics.genuine;
  return undefined;
}

export function meanStd(values: number[]): { mean: number; std: number; n: number } {
  if (values.length === 0) throw new Error('meanStd: values is empty; expected at least one number');
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, std: Math.sqrt(variance), n };
}

export interface BuildOptions {
  /** Folds each column should have (column id -> count); shown as "(k/n folds)" when incomplete. */
  expectedFolds?: Record<string, number>;
  references?: Reference[];
}

/**
 * Build the table. If several results share (row, column, fold) the last one wins, so pass results
 * oldest first. Results for unknown rows/columns are ignored (the store may hold other runs).
 */
export function buildTable(cfg: TableConfig, results: FoldResult[], opts: BuildOptions = {}): PaperTable {
  const metrics = cfg.metrics.map(tableMetricSpec);
  const byCell = new Map<string, Map<string, Record<string, number>>>(); // "row\0col" -> fold -> metrics
  const extrasOf = new Map<string, Map<string, { counts: Record<string, number>; pairFold: string }>>(); // same keys -> fold -> ...
  for (const r of results) {
    const key = `${r.row}\0${r.column}`;
    if (!byCell.has(key)) (byCell.set(key, new Map()), extrasOf.set(key, new Map()));
    byCell.get(key)!.set(r.fold, r.metrics);
    extrasOf.get(key)!.set(r.fold, { counts: r.counts ?? {}, pairFold: r.pairFold ?? r.fold });
  }
  const refs = opts.references ?? [];
  const rowIds = new Set(cfg.rows.map((r) => r.id));
  const colIds = new Set(cfg.columns.map((c) => c.id));
  for (const ref of refs) {
    if (!colIds.has(ref.column)) throw new Error(`reference "${ref.method}" names column "${ref.column}"; table "${cfg.name}" has columns: ${[...colIds].join(', ')}`);
    if (ref.row !== undefined && !rowIds.has(ref.row)) throw new Error(`reference "${ref.method}" names row "${ref.row}"; table "${cfg.name}" has rows: ${[...rowIds].join(', ')}`);
  }

  // One value per paired fold: the mean of the row's runs on it, over the sum of their trials.
  const foldValues = (row: string, col: string, metric: string): FoldValue[] => {
    const folds = byCell.get(`${row}\0${col}`) ?? new Map<string, Record<string, number>>();
    const extras = extrasOf.get(`${row}\0${col}`);
    const byPair = new Map<string, { values: number[]; trials: number[] }>();
    for (const [fold, f] of folds) {
      const value = f[metric];
      if (typeof value !== 'number' || !Number.isFinite(value)) continue;
      const { counts, pairFold } = extras?.get(fold) ?? { counts: {}, pairFold: fold };
      const p = byPair.get(pairFold) ?? { values: [], trials: [] };
      p.values.push(value);
      const trials = trialsOf(metric, f, counts);
      if (trials !== undefined) p.trials.push(trials);
      byPair.set(pairFold, p);
    }
    return [...byPair].map(([fold, p]) => ({
      fold,
      value: p.values.reduce((a, b) => a + b, 0) / p.values.length,
      ...(p.trials.length === p.values.length && p.trials.every((t) => t > 0) ? { trials: p.trials.reduce((a, b) => a + b, 0) } : {}),
    }));
  };

  const rows: TableRowOut[] = cfg.rows.map((row): TableRowOut => ({
    id: row.id,
    label: row.label,
    kind: 'ours',
    cells: cfg.columns.map((col) => {
      if (!rowsOfColumn(cfg, col).some((r) => r.id === row.id)) return null;
      const folds = byCell.get(`${row.id}\0${col.id}`) ?? new Map<string, Record<string, number>>();
      const skipped = skippedOf(folds.values());
      return metrics.map((m): TableCell => {
        const values = [...folds.values()].map((f) => f[m.key]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
        const stat = values.length ? meanStd(values.map((v) => (m.percent ? v * 100 : v))) : null;
        const reference = refs.find((x) => x.row === row.id && x.column === col.id && x.metric === m.key);
        return {
          metric: m.key, stat, expected: opts.expectedFolds?.[col.id] ?? null, best: false,
          ...(stat ? { folds: foldValues(row.id, col.id, m.key) } : {}), ...(reference ? { reference } : {}), ...(skipped ? { skipped } : {}),
        };
      });
    }),
  }));

  // Bold only the significantly best of our rows per column/metric; rows the best is not significantly
  // better than are tied with it (only when at least two rows have numbers).
  cfg.columns.forEach((col, ci) =>
    metrics.forEach((m, mi) => {
      const ranked = rows.flatMap((r, ri) => (r.cells[ci]?.[mi]?.stat ? [{ id: String(ri), folds: r.cells[ci]![mi].folds! }] : []));
      if (ranked.length < 2) return;
      const { best, tied } = rankGroups(ranked, m.better);
      for (const { id } of ranked) {
        const cell = rows[Number(id)].cells[ci]![mi];
        cell.best = id === best;
        if (tied.includes(id)) cell.tied = true;
      }
    }),
  );

  // Literature-only rows: one per method (in file order), cells filled where the file has a number.
  const litMethods = [...new Set(refs.filter((r) => r.row === undefined).map((r) => r.method))];
  for (const method of litMethods) {
    const mine = refs.filter((r) => r.row === undefined && r.method === method);
    rows.push({
      id: `lit:${method}`,
      label: method,
      kind: 'literature',
      source: [...new Set(mine.map((r) => r.source))].join('; '),
      cells: cfg.columns.map((col) =>
        metrics.map((m): TableCell => {
          const ref = mine.find((r) => r.column === col.id && r.metric === m.key);
          return { metric: m.key, stat: ref ? { mean: ref.mean, std: ref.std ?? null, n: null } : null, expected: null, best: false };
        }),
      ),
    });
  }

  return {
    name: cfg.name,
    title: cfg.title,
    rowHeader: cfg.rowHeader,
    ...(cfg.caption ? { caption: cfg.caption } : {}),
    metrics,
    columns: cfg.columns.map((c) => ({ id: c.id, label: c.label, protocol: c.protocol })),
    rows,
  };
}
