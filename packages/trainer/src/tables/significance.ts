// Is one group of runs really better than another? Two answers, as the methods section reports them:
//  - a paired t-test over folds (each fold's mean of group A minus group B's; df = folds - 1), with the
//    95% t interval of the mean difference;
//  - a bootstrap over probes within folds: each fold's proportion (Rank-1 over its probes, TAR over its
//    genuine pairs) is re-drawn from its own trials, the folds are averaged, and the 2.5/97.5 percentiles
//    of A - B over the resamples are the 95% interval. The store keeps each fold's proportion and trial
//    count, not which probe was right, so the two groups are resampled independently within a fold
//    (`paired: false`): wider than a probe-paired interval, never narrower.
// Pure functions with a seeded generator: the same inputs give the same interval.

/** One fold's value of a group (the mean over the group's runs on that fold), with its trial count. */
export interface FoldValue {
  fold: string;
  value: number;
  /** Probes (Rank-1) or genuine pairs (TAR@FAR) the proportion was measured over; absent = unknown. */
  trials?: number;
}

export interface PairedTTest {
  /** Folds both groups have. */
  n: number;
  meanDiff: number;
  t: number;
  df: number;
  /** Two-sided p-value. */
  p: number;
  ci95: [number, number];
}

export interface BootstrapDiff {
  diff: number;
  ci95: [number, number];
  resamples: number;
  folds: number;
  paired: false;
}

export interface GroupDifference {
  /** A - B over the folds both have. */
  diff: number;
  ttest: PairedTTest | null;
  bootstrap: BootstrapDiff | null;
  /** Both tests that could be run agree the difference is not zero at 5%. */
  significant: boolean;
}

// ---- Student t distribution (regularised incomplete beta, Numerical Recipes' continued fraction) ----

function logGamma(x: number): number {
  const c = [76.18009172947146, -86.50532032941677, 24.01409824083091, -1.231739572450155, 0.1208650973866179e-2, -0.5395239384953e-5];
  let y = x;
  const tmp = x + 5.5 - (x + 0.5) * Math.log(x + 5.5);
  let ser = 1.000000000190015;
  for (const ci of c) ser += ci / ++y;
  return -tmp + Math.log((2.5066282746310005 * ser) / x);
}

function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    c = 1 + aa / c;
    d = 1 / (Math.abs(d) < tiny ? tiny : d);
    c = Math.abs(c) < tiny ? tiny : c;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    c = 1 + aa / c;
    d = 1 / (Math.abs(d) < tiny ? tiny : d);
    c = Math.abs(c) < tiny ? tiny : c;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-14) break;
  }
  return h;
}

/** I_x(a, b). */
function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaContinuedFraction(a, b, x)) / a : 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** Two-sided p-value of Student's t with `df` degrees of freedom. */
export function studentTwoSidedP(t: number, df: number): number {
  if (!Number.isFinite(t)) return 0;
  return incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/** The t value with two-sided tail probability `alpha` (2.776 for df = 4, alpha = 0.05). */
export function studentQuantile(df: number, alpha = 0.05): number {
  let lo = 0;
  let hi = 1e6;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (studentTwoSidedP(mid, df) > alpha) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

// ---- tests ----

const byFold = (xs: FoldValue[]) => new Map(xs.filter((x) => Number.isFinite(x.value)).map((x) => [x.fold, x]));

/** Paired t-test over the folds both groups have; null with fewer than two such folds. */
export function pairedTTest(a: FoldValue[], b: FoldValue[]): PairedTTest | null {
  const fb = byFold(b);
  const diffs = [...byFold(a)].filter(([f]) => fb.has(f)).map(([f, x]) => x.value - fb.get(f)!.value);
  const n = diffs.length;
  if (n < 2) return null;
  const mean = diffs.reduce((s, d) => s + d, 0) / n;
  const sd = Math.sqrt(diffs.reduce((s, d) => s + (d - mean) ** 2, 0) / (n - 1));
  const df = n - 1;
  const se = sd / Math.sqrt(n);
  // Every fold moved by the same amount: no spread, so any nonzero difference is certain, zero is none.
  const t = se === 0 ? (mean === 0 ? 0 : Math.sign(mean) * Number.POSITIVE_INFINITY) : mean / se;
  const half = se * studentQuantile(df);
  return { n, meanDiff: mean, t, df, p: mean === 0 && se === 0 ? 1 : studentTwoSidedP(t, df), ci95: [mean - half, mean + half] };
}

/** mulberry32: a small seeded generator, so an interval is the same on every request. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Successes of `trials` draws with probability p (the probes of one resample). */
function binomial(trials: number, p: number, rand: () => number): number {
  let k = 0;
  for (let i = 0; i < trials; i++) if (rand() < p) k++;
  return k;
}

/**
 * Bootstrap over probes within folds: the 95% interval of mean_folds(A) - mean_folds(B) over the folds
 * both groups have, each fold's proportion re-drawn from its trials. Null when a shared fold has no
 * trial count (EER and AUC are not proportions of probes) or no fold is shared.
 */
export function bootstrapDiff(a: FoldValue[], b: FoldValue[], opts: { resamples?: number; seed?: number } = {}): BootstrapDiff | null {
  const resamples = opts.resamples ?? 2000;
  const fb = byFold(b);
  const pairs = [...byFold(a)].filter(([f]) => fb.has(f)).map(([f, x]) => [x, fb.get(f)!] as const);
  if (pairs.length === 0 || pairs.some(([x, y]) => !(x.trials && y.trials && x.trials > 0 && y.trials > 0))) return null;
  const rand = rng(opts.seed ?? 1);
  const diffs = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (const [x, y] of pairs) s += binomial(x.trials!, x.value, rand) / x.trials! - binomial(y.trials!, y.value, rand) / y.trials!;
    diffs[r] = s / pairs.length;
  }
  diffs.sort();
  const at = (q: number) => diffs[Math.min(resamples - 1, Math.max(0, Math.round(q * (resamples - 1))))];
  const diff = pairs.reduce((s, [x, y]) => s + x.value - y.value, 0) / pairs.length;
  return { diff, ci95: [at(0.025), at(0.975)], resamples, folds: pairs.length, paired: false };
}

/**
 * A - B with both tests. Significant when every test that could run excludes zero (p < 0.05, the
 * bootstrap interval on one side of zero); with neither test (one shared fold, no trial counts) it is not.
 */
export function groupDifference(a: FoldValue[], b: FoldValue[], opts: { resamples?: number; seed?: number } = {}): GroupDifference | null {
  const fb = byFold(b);
  const shared = [...byFold(a)].filter(([f]) => fb.has(f));
  if (shared.length === 0) return null;
  const diff = shared.reduce((s, [f, x]) => s + x.value - fb.get(f)!.value, 0) / shared.length;
  const ttest = pairedTTest(a, b);
  const bootstrap = bootstrapDiff(a, b, opts);
  const excludesZero = (ci: [number, number]) => ci[0] > 0 || ci[1] < 0;
  const tests = [ttest ? ttest.p < 0.05 : null, bootstrap ? excludesZero(bootstrap.ci95) : null].filter((x) => x !== null);
  return { diff, ttest, bootstrap, significant: tests.length > 0 && tests.every(Boolean) };
}

/**
 * Which groups are best on a metric: the best mean is bold only when it is significantly better than
 * every other group; otherwise it and every group not significantly worse are tied.
 */
export function rankGroups(
  groups: Array<{ id: string; folds: FoldValue[] }>,
  better: 'higher' | 'lower',
  opts: { resamples?: number; seed?: number } = {},
): { best: string | null; tied: string[]; differences: Record<string, GroupDifference | null> } {
  const mean = (fs: FoldValue[]) => {
    const v = fs.filter((f) => Number.isFinite(f.value));
    return v.length ? v.reduce((s, f) => s + f.value, 0) / v.length : Number.NaN;
  };
  const scored = groups.map((g) => ({ ...g, mean: mean(g.folds) })).filter((g) => Number.isFinite(g.mean));
  // One group has nothing to be best against.
  if (scored.length < 2) return { best: null, tied: [], differences: {} };
  scored.sort((x, y) => (better === 'higher' ? y.mean - x.mean : x.mean - y.mean));
  const top = scored[0];
  const differences: Record<string, GroupDifference | null> = {};
  for (const g of scored.slice(1)) differences[g.id] = groupDifference(top.folds, g.folds, opts);
  const tiedWithTop = scored.slice(1).filter((g) => !differences[g.id]?.significant).map((g) => g.id);
  if (tiedWithTop.length === 0) return { best: top.id, tied: [], differences };
  return { best: null, tied: [top.id, ...tiedWithTop], differences };
}

/** A difference in display units (points for percentages): what tables and findings print. */
export interface RowDifference {
  diff: number;
  /** 95% interval: the bootstrap's over probes within folds where the metric is a proportion with trial
   *  counts, else the paired t-test's over folds; null = neither could run */
  ci95: [number, number] | null;
  /** which test gave ci95 */
  interval: 'bootstrap' | 't-test' | null;
  /** two-sided p of the paired t-test over folds (null with fewer than 2 shared folds) */
  p: number | null;
  folds: number;
  /** every test that could run excludes 0 at 5% */
  significant: boolean;
}

/** A GroupDifference (stored units) in display units, with which test gave the interval. */
export function toRowDifference(d: GroupDifference, metric: { percent: boolean }): RowDifference {
  const scale = metric.percent ? 100 : 1;
  const ci = d.bootstrap?.ci95 ?? d.ttest?.ci95 ?? null;
  return {
    diff: d.diff * scale,
    ci95: ci ? [ci[0] * scale, ci[1] * scale] : null,
    interval: d.bootstrap ? 'bootstrap' : d.ttest ? 't-test' : null,
    p: d.ttest?.p ?? null,
    folds: d.bootstrap?.folds ?? d.ttest?.n ?? 1,
    significant: d.significant,
  };
}
