// Pure helpers behind compare, eval-curve and paper-table endpoints (no SQL, no HTTP).
import { buildTable, knownMetricKeys, meanStd, metricSpec, parseTableConfig, type MetricSpec, type EvalByKeyRow, type EvalRow, type FoldResult, type PaperTable } from './store.ts';


/** Flatten a nested config into dotted keys; arrays are leaves. */
export function flattenConfig(v: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, c] of Object.entries(v)) flattenConfig(c, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) out[prefix] = v;
  return out;
}

/** Keys whose values differ between the configs (a key missing from one config counts as different). */
export function configDiff(configs: Map<number, unknown>): Array<{ key: string; values: Record<number, unknown> }> {
  const flat = [...configs].map(([id, c]) => [id, flattenConfig(c)] as const);
  const keys = new Set(flat.flatMap(([, f]) => Object.keys(f)));
  const out: Array<{ key: string; values: Record<number, unknown> }> = [];
  for (const key of [...keys].sort()) {
    const vals = flat.map(([, f]) => JSON.stringify(f[key] ?? null));
    if (new Set(vals).size > 1) out.push({ key, values: Object.fromEntries(flat.map(([id, f]) => [id, f[key] ?? null])) });
  }
  return out;
}

export interface MetricSummary {
  runId: number;
  protocol: string;
  metric: string;
  mean: number | null;
  std: number | null;
  n: number;
  folds: Record<string, number | null>;
}

/** Per (run, protocol, metric): mean +- sample std over folds, plus the fold values. */
export function summarizeEvals(rows: EvalRow[]): MetricSummary[] {
  const groups = new Map<string, EvalRow[]>();
  for (const r of rows) {
    const k = `${r.runId}\0${r.protocol}\0${r.metric}`;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(r);
  }
  return [...groups.values()].map((g) => {
    const finite = g.map((r) => r.value).filter((v): v is number => v !== null && Number.isFinite(v));
    const s = finite.length ? meanStd(finite) : null;
    return {
      runId: g[0].runId,
      protocol: g[0].protocol,
      metric: g[0].metric,
      mean: s?.mean ?? null,
      std: s?.std ?? null,
      n: finite.length,
      folds: Object.fromEntries(g.map((r) => [r.fold, r.value])),
    };
  });
}

/**
 * ROC curves can hold one point per impostor score. Keep at most ~`buckets` points, one per log10(FAR)
 * bucket (the highest TAR in it), plus the curve's ends, which is all a log-axis plot can show.
 */
export function thinRoc(far: Array<number | null>, tar: Array<number | null>, buckets = 300): { x: number[]; y: number[] } {
  const pts: Array<[number, number]> = [];
  for (let i = 0; i < Math.min(far.length, tar.length); i++) {
    const x = far[i];
    const y = tar[i];
    if (x !== null && y !== null && Number.isFinite(x) && Number.isFinite(y)) pts.push([x, y]);
  }
  if (pts.length <= buckets) return { x: pts.map((p) => p[0]), y: pts.map((p) => p[1]) };
  const positive = pts.filter((p) => p[0] > 0);
  const lo = Math.log10(Math.min(...positive.map((p) => p[0])));
  const width = (0 - lo) / buckets || 1;
  const best = new Map<number, [number, number]>();
  for (const p of positive) {
    const b = Math.min(buckets - 1, Math.floor((Math.log10(p[0]) - lo) / width));
    const cur = best.get(b);
    if (!cur || p[1] > cur[1]) best.set(b, p);
  }
  const kept = [pts[0], ...[...best.values()], pts[pts.length - 1]].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return { x: kept.map((p) => p[0]), y: kept.map((p) => p[1]) };
}

export const rowLabelOf = (x: unknown, rowsKey: string) =>
  rowsKey === 'method' ? String(x ?? 'unknown') : `${rowsKey}=${x === null || x === undefined ? '(unset)' : String(x)}`;

/**
 * A paper table from stored evaluations: rows = values of `rowsKey` (a config key, or the run's method),
 * columns = protocols, cells = mean +- std over folds. Built and exported with the trainer's tables module.
 */
export function paperTableFromEvals(rows: EvalByKeyRow[], rowsKey: string, metrics: string[], title: string): PaperTable {
  const rowLabels = [...new Set(rows.map((r) => rowLabelOf(rowsKey === 'method' ? r.method : r.x, rowsKey)))];
  const protocols = [...new Set(rows.map((r) => r.protocol))].sort();
  const rowId = new Map(rowLabels.map((l, i) => [l, `r${i}`]));
  const colId = new Map(protocols.map((p, i) => [p, `c${i}`]));
  const cfg = parseTableConfig(
    {
      name: 'dashboard',
      title,
      metrics: metrics.map((m) => knownOrCustom(m)),
      datasets: { store: { root: null } },
      rows: rowLabels.map((l) => ({ id: rowId.get(l)!, label: l })),
      columns: protocols.map((p) => ({ id: colId.get(p)!, label: p, dataset: 'store', protocol: p })),
    },
    'dashboard table',
  );
  // One FoldResult per (row, protocol, fold, run): runs repeating a fold (other seeds) count as extra folds.
  const results = new Map<string, FoldResult>();
  for (const r of rows) {
    const label = rowLabelOf(rowsKey === 'method' ? r.method : r.x, rowsKey);
    const key = `${label}\0${r.protocol}\0${r.fold}\0${r.runId}`;
    let fr = results.get(key);
    if (!fr) {
      fr = { row: rowId.get(label)!, column: colId.get(r.protocol)!, fold: `${r.fold}#${r.runId}`, metrics: {} };
      results.set(key, fr);
    }
    if (r.value !== null) fr.metrics[r.metric] = r.value;
  }
  return buildTable(cfg, [...results.values()]);
}

/** Metrics the tables module does not know get a plain label, so any stored metric can be tabled. */
function knownOrCustom(m: string): string | { key: string; label: string; percent: boolean; better: 'higher' | 'lower'; decimals: number } {
  return knownMetricKeys().includes(m) ? m : { key: m, label: m, percent: false, better: 'higher', decimals: 4 };
}

/** Display spec of every metric name: the tables module's for known ones, a plain one otherwise. */
export function metricSpecs(names: string[]): Record<string, MetricSpec> {
  return Object.fromEntries(names.map((n) => [n, knownMetricKeys().includes(n) ? metricSpec(n) : metricSpec(n, { label: n, decimals: 4 })]));
}
