// Two rows of a table compared in one cell (column x metric): A - B over the folds both have, in display
// units (points for percentages), with the 95% interval of significance.ts (a bootstrap over probes within
// folds where the metric is a proportion with trial counts, else the paired t-test over folds), phrased
// for findings: "N = 1 vs N = 4: -3.9 points, 95% CI [-6.1, -1.8]".
import type { PaperTable, TableCell } from './build.ts';
import type { MetricSpec } from './metrics.ts';
import { groupDifference, toRowDifference, type RowDifference } from './significance.ts';

export { toRowDifference, type RowDifference } from './significance.ts';


/** Row A minus row B in one column of a built table on one of its metrics; null when a row or the column
 *  is not in the table, a cell has no values, or the cells share no fold. */
export function rowDifference(t: PaperTable, a: string, b: string, column: string, metric: string, seed = 1): RowDifference | null {
  const ci = t.columns.findIndex((c) => c.id === column);
  const mi = t.metrics.findIndex((m) => m.key === metric);
  if (ci < 0 || mi < 0) return null;
  const cell = (row: string) => t.rows.find((r) => r.id === row)?.cells[ci]?.[mi];
  return cellDifference(cell(a), cell(b), t.metrics[mi], seed);
}

/** Two cells of a built table (their per-fold values, as the table tested them): A - B; null when one
 *  has no values or they share no fold. */
export function cellDifference(a: TableCell | null | undefined, b: TableCell | null | undefined, metric: MetricSpec, seed = 1): RowDifference | null {
  if (!a?.folds || !b?.folds) return null;
  const d = groupDifference(a.folds, b.folds, { seed });
  return d ? toRowDifference(d, metric) : null;
}

/** "-3.9 points, 95% CI [-6.1, -1.8]" (percent metrics), or "-0.021, 95% CI [...]"; "(1 fold, no interval)". */
export function formatDifference(d: RowDifference, metric: MetricSpec): string {
  const unit = metric.percent ? ' points' : '';
  const dec = metric.percent ? 1 : Math.max(3, metric.decimals);
  const sign = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(dec)}`;
  const ci = d.ci95 ? `95% CI [${d.ci95[0].toFixed(dec)}, ${d.ci95[1].toFixed(dec)}]` : `${d.folds} fold${d.folds === 1 ? '' : 's'}, no interval`;
  if (!d.ci95 || d.significant) return `${sign(d.diff)}${unit}, ${ci}`;
  // an interval that excludes 0 while the other test does not agree: say which, not a bare "not significant"
  const excludes = d.ci95[0] > 0 || d.ci95[1] < 0;
  const why = excludes && d.p !== null ? `the interval excludes 0 but the paired t-test over folds does not (p = ${d.p.toFixed(2)}): not significant` : 'not significant';
  return `${sign(d.diff)}${unit}, ${ci} (${why})`;
}
