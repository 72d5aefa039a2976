// Paper table = rows (methods/settings) x columns (protocols) x metrics; each cell is mean +- std over
// folds, with literature numbers beside ours. Pure: callers pass per-fold results, no I/O here.
import { rowsOfColumn, tableMetricSpec, type TableConfig } from './config.ts';
import { SKIPPED_METRICS, type MetricSpec } from './metrics.ts';
import type { Reference } from './references.ts';
import { groupDifference, type FoldValue } from './significance.ts';
import { flattenConfigValues } from '../flatten.ts';
import { getMethod, hasMethod } from '../methods/method.ts';

/** One fold of one cell: its metric values and the trials behind them. */
type FoldValues = Pick<FoldResult, 'metrics' | 'trials'>;

/** One evaluated fold of one run, already assigned to a table row and column. */
export interface FoldResult {
  row: string;
  column: string;
  fold: string;
  /** Stored metric values (fractions for percentages), keyed like MetricSpec.key. */
  metrics: Record<string, number>;
  /** Trials behind a proportion metric (probes for Rank-k, genuine pairs for TAR), for the bootstrap. */
  trials?: Record<string, number>;
}

/** A cell against the table's reference row (same column and metric), in display units. */
export interface CellDifference {
  /** this row minus the reference, over the folds both have */
  diff: number;
  /** 95% interval of the difference: the bootstrap over probes within folds where the metric is a
   *  proportion with trial counts, else the paired t-test's over folds; null = neither could run */
  ci95: [number, number] | null;
  /** which test gave ci95 */
  interval: 'bootstrap' | 't-test' | null;
  /** two-sided p of the paired t-test over folds (null with fewer than 2 shared folds) */
  p: number | null;
  folds: number;
  /** every test that could run excludes 0 at 5% */
  significant: boolean;
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
  /** Best mean among our rows in this column/metric. */
  best: boolean;
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
    byCell.get(key)!.set(r.fold, { metrics: r.metrics, ...(r.trials ? { trials: r.trials } : {}) });
  }
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
        return { metric: m.key, stat, expected: opts.expectedFolds?.[col.id] ?? null, best: false, ...(reference ? { reference } : {}), ...(skipped ? { skipped } : {}) };
      });
    }),
  }));

  if (cfg.reference !== undefined) compareWithReference(cfg, metrics, rows, byCell);

  // Bold the best of our rows per column/metric (only when at least two rows have numbers).
  cfg.columns.forEach((_, ci) =>
    metrics.forEach((m, mi) => {
      const cells = rows.map((r) => r.cells[ci]?.[mi]).filter((c): c is TableCell => !!c?.stat);
      if (cells.length < 2) return;
      const pick = m.better === 'higher' ? Math.max : Math.min;
      const best = pick(...cells.map((c) => c.stat!.mean));
      for (const c of cells) c.best = c.stat!.mean === best;
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
        const values = (f: Map<string, FoldValues>): FoldValue[] => [...f].filter(([, r]) => Number.isFinite(r.metrics[m.key])).map(([fold, r]) => ({ fold, value: r.metrics[m.key], ...(r.trials?.[m.key] ? { trials: r.trials[m.key] } : {}) }));
        const d = groupDifference(values(folds), values(refFolds), { seed: 1 });
        if (!d) return;
        const scale = m.percent ? 100 : 1;
        const interval = d.bootstrap?.ci95 ?? d.ttest?.ci95 ?? null;
        row.cells[ci]![mi].vsReference = {
          diff: d.diff * scale,
          ci95: interval ? [interval[0] * scale, interval[1] * scale] : null,
          interval: d.bootstrap ? 'bootstrap' : d.ttest ? 't-test' : null,
          p: d.ttest?.p ?? null,
          folds: d.bootstrap?.folds ?? d.ttest?.n ?? 1,
          significant: d.significant,
        };
      });
    }
  });
}
