// Paper table = rows (methods/settings) x columns (protocols) x metrics; each cell is mean +- std over
// folds, with literature numbers beside ours. Pure: callers pass per-fold results, no I/O here.
import { rowsOfColumn, tableMetricSpec, type TableConfig } from './config.ts';
import { SKIPPED_METRICS, type MetricSpec } from './metrics.ts';
import type { Reference } from './references.ts';
import { groupDifference, rankGroups, toRowDifference, type FoldValue, type RowDifference } from './significance.ts';
import { flattenConfigValues } from '../flatten.ts';
import { getMethod, hasMethod } from '../methods/method.ts';

/** One fold of one cell: its metric values and the trials behind them. */
type FoldValues = Pick<FoldResult, 'metrics' | 'trials'> & { pairFold: string };

/** One evaluated fold of one run, already assigned to a table row and column. */
export interface FoldResult {
  row: string;
  column: string;
  fold: string;
  /** Stored metric values (fractions for percentages), keyed like MetricSpec.key. */
  metrics: Record<string, number>;
  /** Trials behind a proportion metric (probes for Rank-k, genuine pairs for TAR), for the bootstrap. */
  trials?: Record<string, number>;
  /** The fold the significance tests pair rows on, when `fold` also tells apart several runs of one fold
   *  (the dashboard's "3#17"); the runs of one fold are averaged there. Default: `fold`. */
  pairFold?: string;
}

/** A cell against the table's reference row (same column and metric), in display units. */
export type CellDifference = RowDifference;

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
  /** The cell against the table's reference row (absent in the reference row and without one). */
  vsReference?: CellDifference;
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
  /** Our rows: the method the row runs and whether it is told each image's modality at inference
   *  (label-aware; exporters mark the row). */
  method?: string;
  labelAware?: boolean;
  /** A universal row: the protocol its one model per fold trained on. */
  train?: string;
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
  /** The row the others are compared with (vsReference in their cells). */
  reference?: { id: string; label: string };
}

/** One value per paired fold of a cell: the mean of its runs on that fold, over the sum of their trials
 *  (trials only when every run has them). */
function cellFoldValues(folds: Map<string, FoldValues> | undefined, metric: string): FoldValue[] {
  const byPair = new Map<string, { values: number[]; trials: number[] }>();
  for (const f of folds?.values() ?? []) {
    const value = f.metrics[metric];
    if (typeof value !== 'number' || !Number.isFinite(value)) continue;
    const p = byPair.get(f.pairFold) ?? { values: [], trials: [] };
    p.values.push(value);
    const t = f.trials?.[metric];
    if (t !== undefined && t > 0) p.trials.push(t);
    byPair.set(f.pairFold, p);
  }
  return [...byPair].map(([fold, p]) => ({
    fold,
    value: p.values.reduce((a, b) => a + b, 0) / p.values.length,
    ...(p.trials.length === p.values.length ? { trials: p.trials.reduce((a, b) => a + b, 0) } : {}),
  }));
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
  const byCell = new Map<string, Map<string, FoldValues>>(); // "row\0col" -> fold -> metrics (and trials)
  for (const r of results) {
    const key = `${r.row}\0${r.column}`;
    if (!byCell.has(key)) byCell.set(key, new Map());
    byCell.get(key)!.set(r.fold, { metrics: r.metrics, ...(r.trials ? { trials: r.trials } : {}), pairFold: r.pairFold ?? r.fold });
  }
  const foldValues = (row: string, col: string, metric: string): FoldValue[] => cellFoldValues(byCell.get(`${row}\0${col}`), metric);
  const refs = opts.references ?? [];
  const rowIds = new Set(cfg.rows.map((r) => r.id));
  const colIds = new Set(cfg.columns.map((c) => c.id));
  for (const ref of refs) {
    if (!colIds.has(ref.column)) throw new Error(`reference "${ref.method}" names column "${ref.column}"; table "${cfg.name}" has columns: ${[...colIds].join(', ')}`);
    if (ref.row !== undefined && !rowIds.has(ref.row)) throw new Error(`reference "${ref.method}" names row "${ref.row}"; table "${cfg.name}" has rows: ${[...rowIds].join(', ')}`);
  }

  const baseMethod = flattenConfigValues(cfg.base).method;
  const rows: TableRowOut[] = cfg.rows.map((row): TableRowOut => ({
    id: row.id,
    label: row.label,
    kind: 'ours',
    ...methodOf(flattenConfigValues(row.set).method ?? baseMethod),
    ...(row.train ? { train: row.train } : {}),
    cells: cfg.columns.map((col) => {
      if (!rowsOfColumn(cfg, col).some((r) => r.id === row.id)) return null;
      const folds = byCell.get(`${row.id}\0${col.id}`) ?? new Map<string, FoldValues>();
      const skipped = skippedOf([...folds.values()].map((f) => f.metrics));
      return metrics.map((m): TableCell => {
        const values = [...folds.values()].map((f) => f.metrics[m.key]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
        const stat = values.length ? meanStd(values.map((v) => (m.percent ? v * 100 : v))) : null;
        const reference = refs.find((x) => x.row === row.id && x.column === col.id && x.metric === m.key);
        return {
          metric: m.key, stat, expected: opts.expectedFolds?.[col.id] ?? null, best: false,
          ...(stat ? { folds: foldValues(row.id, col.id, m.key) } : {}), ...(reference ? { reference } : {}), ...(skipped ? { skipped } : {}),
        };
      });
    }),
  }));

  if (cfg.reference !== undefined) compareWithReference(cfg, metrics, rows, byCell);

  // Bold only the significantly best of our rows per column/metric; rows the best is not significantly
  // better than are tied with it (only when at least two rows have numbers).
  cfg.columns.forEach((_, ci) =>
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
    ...(cfg.reference !== undefined ? { reference: { id: cfg.reference, label: cfg.rows.find((r) => r.id === cfg.reference)!.label } } : {}),
  };
}

/** The row's method and label use, from the methods registry (the default method when the row sets none). */
function methodOf(method: unknown): Pick<TableRowOut, 'method' | 'labelAware'> {
  const name = typeof method === 'string' ? method : 'ssmb';
  if (!hasMethod(name)) return {}; // the config check names an unknown method when the row's runs are made
  return { method: name, labelAware: getMethod(name).label.inference };
}

/** Each cell of every other row against the reference row's cell: difference, 95% interval, p. */
function compareWithReference(cfg: TableConfig, metrics: MetricSpec[], rows: TableRowOut[], byCell: Map<string, Map<string, FoldValues>>): void {
  const ref = cfg.reference!;
  cfg.columns.forEach((col, ci) => {
    const refFolds = byCell.get(`${ref}\0${col.id}`);
    if (!refFolds) return;
    for (const row of rows) {
      if (row.id === ref || !row.cells[ci]) continue;
      const folds = byCell.get(`${row.id}\0${col.id}`);
      if (!folds) continue;
      metrics.forEach((m, mi) => {
        const d = groupDifference(cellFoldValues(folds, m.key), cellFoldValues(refFolds, m.key), { seed: 1 });
        if (!d) return;
        row.cells[ci]![mi].vsReference = toRowDifference(d, m);
      });
    }
  });
}
