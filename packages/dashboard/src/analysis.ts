// Pure helpers behind compare, eval-curve, grouped-curve, parallel-coordinate and paper-table endpoints
// (no SQL, no HTTP). Statistics follow the tables module: mean +- sample std (n - 1); a std is reported
// only when n > 1 (NaN otherwise: one value has no spread to show).
import {
  buildTable, flattenConfig, knownMetricKeys, meanStd, metricSpec, parseTableConfig, CONFIG_PATH_KEYS,
  type BucketMeans, type EvalByKeyRow, type EvalRow, type FoldResult, type MetricSpec, type PaperTable,
} from '@ssmb/trainer';

/** Keys whose values differ between the configs (a key missing from one config counts as different). */
export function configDiff(configs: Map<number, unknown>): Array<{ key: string; values: Record<number, string | number | boolean | null> }> {
  const flat = [...configs].map(([id, c]) => [id, flattenConfig(c)] as const);
  const keys = new Set(flat.flatMap(([, f]) => Object.keys(f)));
  const out: Array<{ key: string; values: Record<number, string | number | boolean | null> }> = [];
  for (const key of [...keys].sort()) {
    const vals = flat.map(([, f]) => JSON.stringify(f[key] ?? null));
    if (new Set(vals).size > 1) out.push({ key, values: Object.fromEntries(flat.map(([id, f]) => [id, f[key] ?? null])) });
  }
  return out;
}

/** mean, std (NaN unless n > 1) and n of the finite values; null when there are none. */
export function stats(values: number[]): { mean: number; std: number; n: number } | null {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return null;
  const s = meanStd(finite);
  return { mean: s.mean, std: s.n > 1 ? s.std : Number.NaN, n: s.n };
}

export interface MetricSummary {
  runId: number;
  protocol: string;
  metric: string;
  mean: number;
  std: number;
  n: number;
  folds: Record<string, number>;
  /** TAR@FAR only: the fewest false accepts a fold's operating point rests on (FAR x impostor pairs). */
  falseAccepts: number | null;
  /** Fewer than FEW_FALSE_ACCEPTS: the TAR is set by one or two impostor scores, not a rate. */
  fewFalseAccepts: boolean;
}

/** Below this many false accepts, TAR at that FAR is noise (1 of 10,440 impostor pairs at FAR = 0.01%). */
export const FEW_FALSE_ACCEPTS = 10;

/** False accepts TAR@FAR=1e-k rests on with `impostors` impostor pairs; null for other metrics. */
export function falseAcceptsAt(metric: string, impostors: number | null): number | null {
  const m = /^tar_far_1e(\d+)$/.exec(metric);
  return m && impostors ? impostors * 10 ** -Number(m[1]) : null;
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
    const s = stats(g.map((r) => r.value));
    const fa = g.map((r) => falseAcceptsAt(r.metric, r.count)).filter((x): x is number => x !== null);
    const falseAccepts = fa.length ? Math.min(...fa) : null;
    return {
      runId: g[0].runId,
      protocol: g[0].protocol,
      metric: g[0].metric,
      mean: s?.mean ?? Number.NaN,
      std: s?.std ?? Number.NaN,
      n: s?.n ?? 0,
      folds: Object.fromEntries(g.map((r) => [r.fold, r.value])),
      falseAccepts,
      fewFalseAccepts: falseAccepts !== null && falseAccepts < FEW_FALSE_ACCEPTS,
    };
  });
}

/**
 * ROC curves can hold one point per impostor score. Keep at most ~`buckets` points, one per log10(FAR)
 * bucket (the highest TAR in it), plus the curve's ends, which is all a log-axis plot can show.
 */
export function thinRoc(far: number[], tar: number[], buckets = 300): { x: number[]; y: number[] } {
  const pts: Array<[number, number]> = [];
  for (let i = 0; i < Math.min(far.length, tar.length); i++) {
    if (Number.isFinite(far[i]) && Number.isFinite(tar[i])) pts.push([far[i], tar[i]]);
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

/** How a grouping value reads in a row label or legend: `ssmb.numExperts=4`. */
export const valueLabel = (key: string, x: unknown) => `${key}=${x === null || x === undefined ? '(unset)' : typeof x === 'string' ? x : JSON.stringify(x)}`;

/** A run the grouping key does not apply to is its own reference row: "baseline", "pretrain". */
const referenceLabel = (r: Pick<EvalByKeyRow, 'method' | 'kind'>) => r.method ?? r.kind;

/**
 * A paper table from stored evaluations grouped by a config key: rows = the key's values over runs it
 * applies to (sorted), after one reference row per method/kind it does not apply to (the frozen
 * baseline); columns = protocols; cells = mean +- std over folds, built and exported with the trainer's
 * tables module. Runs repeating a fold (other seeds) count as extra folds.
 */
export function paperTableFromEvals(rows: EvalByKeyRow[], rowsKey: string, metrics: string[], title: string): PaperTable {
  const labelOf = (r: EvalByKeyRow) => (rowsKey === 'method' ? String(r.applies ? r.x : referenceLabel(r)) : r.applies ? valueLabel(rowsKey, r.x) : referenceLabel(r));
  const refs = [...new Set(rows.filter((r) => !r.applies).map(labelOf))].sort();
  const values = [...new Map(rows.filter((r) => r.applies).map((r) => [labelOf(r), r.x])).entries()]
    .sort(([, a], [, b]) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b))))
    .map(([l]) => l);
  const rowLabels = [...refs, ...values.filter((v) => !refs.includes(v))];
  const protocols = [...new Set(rows.map((r) => r.protocol))].sort();
  const rowId = new Map(rowLabels.map((l, i) => [l, `r${i}`]));
  const colId = new Map(protocols.map((p, i) => [p, `c${i}`]));
  const cfg = parseTableConfig(
    {
      name: 'dashboard',
      title,
      rowHeader: rowsKey === 'method' ? 'Method' : rowsKey,
      metrics: metrics.map((m) => knownOrCustom(m)),
      datasets: { store: { root: null } },
      rows: rowLabels.map((l) => ({ id: rowId.get(l)!, label: l })),
      columns: protocols.map((p) => ({ id: colId.get(p)!, label: p, dataset: 'store', protocol: p })),
    },
    'dashboard table',
  );
  const results = new Map<string, FoldResult>();
  for (const r of rows) {
    const label = labelOf(r);
    const key = `${label}\0${r.protocol}\0${r.fold}\0${r.runId}`;
    let fr = results.get(key);
    if (!fr) {
      fr = { row: rowId.get(label)!, column: colId.get(r.protocol)!, fold: `${r.fold}#${r.runId}`, pairFold: String(r.fold), metrics: {} };
      results.set(key, fr);
    }
    if (Number.isFinite(r.value)) fr.metrics[r.metric] = r.value;
  }
  return buildTable(cfg, [...results.values()]);
}

/** Metrics the tables module does not know get a plain label, so any stored metric can be tabled. */
function knownOrCustom(m: string): string | { key: string; label: string; percent: boolean; better: 'higher' | 'lower'; decimals: number } {
  return knownMetricKeys().includes(m) ? m : { key: m, label: m, percent: false, better: 'higher', decimals: 4 };
}

/** Metric names in the order papers print them (Rank-1, TAR@FAR..., EER, AUC), then the others (counts) sorted. */
export function orderMetrics(names: string[]): string[] {
  const known = knownMetricKeys();
  const rank = (n: string) => (known.includes(n) ? known.indexOf(n) : known.length);
  return [...names].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** Display spec of every metric name: the tables module's for known ones, a plain one otherwise. */
export function metricSpecs(names: string[]): Record<string, MetricSpec> {
  return Object.fromEntries(names.map((n) => [n, knownMetricKeys().includes(n) ? metricSpec(n) : metricSpec(n, { label: n, decimals: 4 })]));
}

export interface CurveGroup {
  /** The group's config value (`ssmb.numExperts=4`), or the run for ungrouped curves (`#12`). */
  label: string;
  runIds: number[];
  /** Bucket centres (steps), and per bucket the mean, std (NaN unless n > 1) and n over the group's runs. */
  steps: number[];
  mean: number[];
  std: number[];
  n: number[];
}

/**
 * Grouped curves (mean +- std band over seeds or folds): each run's history averaged per step bucket,
 * then per group and bucket the mean and sample std over the runs that have a value there.
 */
export function groupCurves(
  means: BucketMeans[],
  range: { lo: number; hi: number; buckets: number },
  groupOf: (runId: number) => string,
): CurveGroup[] {
  const span = range.hi - range.lo + 1;
  const centre = (b: number) => range.lo + ((b + 0.5) * span) / range.buckets - 0.5;
  const groups = new Map<string, BucketMeans[]>();
  for (const m of means) {
    if (m.means.size === 0) continue; // a run with no point of this key draws nothing (and gets no legend entry)
    const g = groupOf(m.runId);
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g)!.push(m);
  }
  return [...groups].map(([label, runs]) => {
    const out: CurveGroup = { label, runIds: runs.map((r) => r.runId), steps: [], mean: [], std: [], n: [] };
    for (let b = 0; b < range.buckets; b++) {
      const s = stats(runs.flatMap((r) => (r.means.has(b) ? [r.means.get(b)!] : [])));
      if (!s) continue;
      out.steps.push(+centre(b).toFixed(3));
      out.mean.push(s.mean);
      out.std.push(s.std);
      out.n.push(s.n);
    }
    return out;
  });
}

/**
 * Axes for parallel coordinates: the dotted config keys (of flat `key -> value` maps; null = the key does
 * not apply to that run) with at least two different values, without paths (datasets, weights, output
 * folders say where, not what), sorted.
 */
export function varyingKeys(flatConfigs: Array<Record<string, unknown>>): string[] {
  const paths = new Set(Object.keys(CONFIG_PATH_KEYS));
  const keys = [...new Set(flatConfigs.flatMap((f) => Object.keys(f)))].filter((k) => !paths.has(k)).sort();
  return keys.filter((k) => new Set(flatConfigs.map((f) => f[k]).filter((v) => v !== null && v !== undefined).map((v) => JSON.stringify(v))).size > 1);
}
