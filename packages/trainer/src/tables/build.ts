// Paper table = rows (methods/settings) x columns (protocols) x metrics; each cell is mean +- std over
// folds, with literature numbers beside ours. Pure: callers pass per-fold results, no I/O here.
import { rowsOfColumn, tableMetricSpec, type TableConfig } from './config.ts';
import { SKIPPED_METRICS, type MetricSpec } from './metrics.ts';
import type { Reference } from './references.ts';

/** One evaluated fold of one run, already assigned to a table row and column. */
export interface FoldResult {
  row: string;
  column: string;
  fold: string;
  /** Stored metric values (fractions for percentages), keyed like MetricSpec.key. */
  metrics: Record<string, number>;
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
  for (const r of results) {
    const key = `${r.row}\0${r.column}`;
    if (!byCell.has(key)) byCell.set(key, new Map());
    byCell.get(key)!.set(r.fold, r.metrics);
  }
  const refs = opts.references ?? [];
  const rowIds = new Set(cfg.rows.map((r) => r.id));
  const colIds = new Set(cfg.columns.map((c) => c.id));
  for (const ref of refs) {
    if (!colIds.has(ref.column)) throw new Error(`reference "${ref.method}" names column "${ref.column}"; table "${cfg.name}" has columns: ${[...colIds].join(', ')}`);
    if (ref.row !== undefined && !rowIds.has(ref.row)) throw new Error(`reference "${ref.method}" names row "${ref.row}"; table "${cfg.name}" has rows: ${[...rowIds].join(', ')}`);
  }

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
        return { metric: m.key, stat, expected: opts.expectedFolds?.[col.id] ?? null, best: false, ...(reference ? { reference } : {}), ...(skipped ? { skipped } : {}) };
      });
    }),
  }));

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
  };
}
