// Display helpers shared by the views. Numbers: percentages as papers print them, integers as integers,
// a standard deviation only when n > 1 (one value has no spread), always with n.
import type { MetricSpec, RunConvergenceInfo } from './api.ts';

export const STATUS_COLORS: Record<string, string> = {
  queued: '#8a8f98', running: '#1f77b4', completed: '#2ca02c', failed: '#d62728', cancelled: '#b58900', stale: '#e07b00',
};
export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

export function specOf(specs: Record<string, MetricSpec> | undefined, key: string): MetricSpec {
  return specs?.[key] ?? { key, label: key, percent: false, better: 'higher', decimals: 4 };
}

/** "Rank-1 (%)": the label with its unit, for table headers and axis titles. */
export const labelWithUnit = (spec: MetricSpec) => (spec.percent ? `${spec.label} (%)` : spec.label);

export function fmtMetric(v: number | null | undefined, spec: MetricSpec): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  if (!spec.percent && Number.isInteger(v)) return v.toLocaleString('en-US');
  return (spec.percent ? v * 100 : v).toFixed(spec.decimals);
}

/** "81.00 ± 1.41" when n > 1, else the value alone. */
export function fmtMeanStd(mean: number | null | undefined, std: number | null | undefined, n: number, spec: MetricSpec): string {
  if (mean === null || mean === undefined || !Number.isFinite(mean)) return '–';
  return n > 1 && std !== null && std !== undefined && Number.isFinite(std) ? `${fmtMetric(mean, spec)} ± ${fmtMetric(std, spec)}` : fmtMetric(mean, spec);
}

/** A plain number: integers whole, tiny and huge ones in exponent form, else 6 significant digits. */
export function fmtNumber(v: unknown): string {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return String(v);
    if (Number.isInteger(v)) return String(v);
    return Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5 ? v.toExponential(3) : String(+v.toPrecision(6));
  }
  if (v === null || v === undefined) return '–';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export function fmtTime(ms: number | null): string {
  if (!ms) return '–';
  const d = new Date(ms);
  const date = d.getFullYear() === new Date().getFullYear() ? d.toISOString().slice(5, 10) : d.toISOString().slice(0, 10);
  return `${date} ${d.toTimeString().slice(0, 5)}`;
}

export function fmtDuration(a: number | null, b: number | null): string {
  if (!a) return '–';
  const s = Math.round(((b ?? Date.now()) - a) / 1000);
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function fmtAgo(ms: number | null): string {
  if (!ms) return '–';
  return `${fmtDuration(ms, Date.now())} ago`;
}

/** TensorBoard-style exponential moving average with debiasing. */
export function smooth(values: number[], weight: number): number[] {
  if (weight <= 0) return values;
  let last = 0;
  let n = 0;
  return values.map((v) => {
    last = last * weight + (1 - weight) * v;
    n++;
    return last / (1 - weight ** n);
  });
}

/** Step of "nice" ticks (1, 2, 5 x 10^k) giving about `count` ticks over `span`. */
function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

/**
 * Axis domain and ticks for values: nice round bounds, and a constant series (a fixed learning rate)
 * gets a band around its value instead of a zero-height axis with repeated labels. `clamp` keeps the
 * domain inside given bounds (rates never exceed 1).
 */
export function niceAxis(values: number[], opts: { count?: number; clamp?: [number, number]; includeZero?: boolean; pad?: number } = {}): { domain: [number, number]; ticks: number[] } {
  const finite = values.filter((v) => Number.isFinite(v));
  let lo = finite.length ? Math.min(...finite) : 0;
  let hi = finite.length ? Math.max(...finite) : 1;
  if (opts.includeZero) (lo = Math.min(lo, 0), hi = Math.max(hi, 0));
  if (hi - lo <= Math.abs(hi) * 1e-9 || hi === lo) {
    const pad = Math.abs(hi) > 0 ? Math.abs(hi) * 0.5 : 1;
    lo -= pad;
    hi += pad;
  } else if (opts.pad) {
    // Room around the extremes, so points, error bars and reference lines never sit on the frame.
    const pad = (hi - lo) * opts.pad;
    lo -= pad;
    hi += pad;
  }
  const step = niceStep(hi - lo, opts.count ?? 5);
  lo = Math.floor(lo / step + 1e-9) * step;
  hi = Math.ceil(hi / step - 1e-9) * step;
  if (opts.clamp) (lo = Math.max(lo, opts.clamp[0]), hi = Math.min(hi, opts.clamp[1]));
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) ticks.push(+t.toPrecision(12));
  return { domain: [lo, hi], ticks };
}

/** Tick labels with as many decimals as the tick step needs, so neighbouring ticks never read the same. */
export function tickFormatter(ticks: number[], scale = 1, suffix = ''): (v: number) => string {
  const step = ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) * scale : Math.abs(ticks[0] ?? 1) * scale;
  const big = Math.max(...ticks.map((t) => Math.abs(t * scale)), 0);
  if (big >= 1e5 || (big > 0 && big < 1e-3)) return (v) => `${(v * scale).toExponential(1)}${suffix}`;
  const decimals = step > 0 ? Math.max(0, Math.min(8, -Math.floor(Math.log10(step) + 1e-9))) : 2;
  return (v) => `${(v * scale).toFixed(decimals)}${suffix}`;
}

/** Inverse standard normal CDF (Acklam), for DET plots on probit axes. */
export function probit(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const q0 = Math.min(Math.max(p, 1e-9), 1 - 1e-9);
  if (q0 < 0.02425) {
    const q = Math.sqrt(-2 * Math.log(q0));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (q0 > 1 - 0.02425) return -probit(1 - q0);
  const q = q0 - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** Chart titles and units of the run page's metric groups (the trainer's metricGroup names them). */
export const GROUP_TITLES: Record<string, string> = {
  losses: 'Losses', 'loss-fixed': 'Loss on fixed pairs (train.lossEvery)', eval: 'Evaluation during training', routing: 'Routing', lr: 'Learning rate', perf: 'Throughput', other: 'Other metrics',
};

/**
 * List entries a run left out because their files were missing (dataset.onMissing=skip): the eval
 * metrics skipped_train / skipped_gallery / skipped_probe (trainer tables/metrics.ts SKIPPED_METRICS),
 * summed over folds: "1 gallery, 3 probe", or null when nothing was skipped.
 */
export function skippedEntries(evals: { metric: string; value: number | null }[]): string | null {
  const sum = new Map<string, number>();
  for (const e of evals) {
    const role = /^skipped_(train|gallery|probe)$/.exec(e.metric)?.[1];
    if (role && e.value) sum.set(role, (sum.get(role) ?? 0) + e.value);
  }
  const parts = ['train', 'gallery', 'probe'].filter((r) => sum.get(r)).map((r) => `${sum.get(r)} ${r}`);
  return parts.length ? parts.join(', ') : null;
}

/** "Slurm job 81234, task 7" / "k8s ssmb-workers, index 3" for runs a cluster launcher executes; '' for local runs. */
export function fmtExecutor(r: { launcher: string | null; launcherJob: string | null; launcherTask: string | null }): string {
  if (!r.launcher || r.launcher === 'local' || !r.launcherJob) return '';
  if (r.launcher === 'slurm') return `Slurm job ${r.launcherJob}${r.launcherTask !== null ? `, task ${r.launcherTask}` : ' (pending)'}`;
  return `${r.launcher} ${r.launcherJob}${r.launcherTask !== null ? `, index ${r.launcherTask}` : ''}`;
}

/**
 * The run page's convergence line (under 5% change of the loss over the last fifth of training),
 * from the fixed-pair estimate, the minibatch figure beside it; a run that cannot be measured says why.
 */
export function convergenceText(c: RunConvergenceInfo): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const th = pct(c.threshold).replace('.0%', '%');
  const f = c.fixed;
  const head = f.measurable
    ? `Convergence: the loss on fixed pairs changed ${pct(f.change)} over the last fifth (step ${f.from.step} -> ${f.to.step}: ${+f.from.value.toPrecision(4)} -> ${+f.to.value.toPrecision(4)}), ${f.change < c.threshold ? 'under' : 'not under'} ${th}`
    : `Convergence: not measurable (${f.reason})`;
  const m = c.minibatch;
  const tail = m.measurable
    ? `minibatch loss ${pct(m.change)} (second half of the last fifth vs the first; a new batch each step, CV ${pct(m.cv)})`
    : `minibatch loss not measurable (${m.reason})`;
  return `${head} · ${tail}`;
}


/**
 * How well a block's router separates modalities: normalised mutual information between modality and
 * expert over the images' counts (rows: modalities, columns: experts), MI / sqrt(H(modality) H(expert)):
 * 1 = each modality has its own expert(s), 0 = every modality spreads over the experts alike (or one
 * expert takes everything). null when there is nothing to separate: no images, or images of one
 * modality only (a VIS-VIS protocol). The run page's heatmap and the routing view both use this one.
 */
export function routingNmi(counts: number[][]): number | null {
  for (const row of counts) for (const c of row) if (!Number.isFinite(c) || c < 0) throw new Error(`routing counts: expected finite counts >= 0, received ${c}`);
  const total = counts.flat().reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const pm = counts.map((row) => row.reduce((a, b) => a + b, 0) / total);
  if (pm.filter((p) => p > 0).length < 2) return null;
  const pe = counts[0].map((_, j) => counts.reduce((a, row) => a + row[j], 0) / total);
  const h = (ps: number[]) => -ps.filter((p) => p > 0).reduce((a, p) => a + p * Math.log(p), 0);
  let mi = 0;
  counts.forEach((row, i) => row.forEach((c, j) => {
    const p = c / total;
    if (p > 0) mi += p * Math.log(p / (pm[i] * pe[j]));
  }));
  const norm = Math.sqrt(h(pm) * h(pe));
  return norm > 0 ? Math.max(0, Math.min(1, mi / norm)) : 0;
}

/** WCAG contrast ratio of two relative luminances. */
const contrast = (a: number, b: number) => (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
const channel = (c: number) => {
  const s = c / 255;
  return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
};
/** Relative luminance of an sRGB colour. */
export const luminance = ([r, g, b]: [number, number, number]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
/** White or dark text, whichever contrasts more with the background. */
export function textOn(bg: [number, number, number]): '#fff' | '#1d2330' {
  const l = luminance(bg);
  return contrast(l, 1) >= contrast(l, luminance([0x1d, 0x23, 0x30])) ? '#fff' : '#1d2330';
}
