// Has a run trained to convergence? The criterion: the loss over the last fifth of training changes
// by less than 5%. Measured on the fixed-pair estimate (metric loss/fixed, train.lossEvery): the relative
// change |L(T) - L(t0)| / |L(t0)| between the estimate at the start of the last fifth (the last one at or
// before step 0.8 T) and the one at the last step T. Both evaluate the same pairs, so the change is the
// parameters' alone. The minibatch `loss` is reported beside it for transparency (mean of the last fifth's
// second half against its first half): each of its points is a different random batch, so that figure is
// mostly sampling noise (its coefficient of variation over the window is returned too).
// A run where either cannot be measured says why; nothing is dropped from a summary.
import { TRAIN_METRICS } from '../metric_keys.ts';

/** Under this relative change over the last fifth a run counts as trained to convergence. */
export const CONVERGENCE_THRESHOLD = 0.05;

export interface StepValue {
  step: number;
  value: number;
}

export type Measured<T> = ({ measurable: true } & T) | { measurable: false; reason: string };

export type FixedLossChange = Measured<{
  /** |L(T) - L(t0)| / |L(t0)| */
  change: number;
  from: StepValue;
  to: StepValue;
  /** estimates after t0 up to T (at least 1) */
  estimatesAfterStart: number;
}>;

export type MinibatchLossChange = Measured<{
  /** |mean(second half) - mean(first half)| / |mean(first half)| over the last fifth (0.8 T, T] */
  change: number;
  firstMean: number;
  secondMean: number;
  points: number;
  /** standard deviation / mean of every point in the last fifth */
  cv: number;
}>;

function checkTotal(totalSteps: number, what: string): void {
  if (!Number.isInteger(totalSteps) || totalSteps < 1) throw new Error(`${what}: totalSteps must be a positive integer, received ${totalSteps}`);
}

function sortedFinite(points: readonly StepValue[]): { ok: StepValue[]; bad: StepValue[] } {
  const sorted = [...points].sort((a, b) => a.step - b.step);
  return { ok: sorted.filter((p) => Number.isFinite(p.value)), bad: sorted.filter((p) => !Number.isFinite(p.value)) };
}

/** The last fifth's start: step 0.8 T. */
export const lastFifthStart = (totalSteps: number) => 0.8 * totalSteps;

/** The relative change of the fixed-pair estimate over the last fifth of a run of `totalSteps` steps. */
export function fixedLossChange(points: readonly StepValue[], totalSteps: number): FixedLossChange {
  checkTotal(totalSteps, 'fixedLossChange');
  if (points.length === 0) return { measurable: false, reason: 'no loss/fixed estimates (trained with train.lossEvery 0, or before the key existed)' };
  const { ok, bad } = sortedFinite(points);
  const start = lastFifthStart(totalSteps);
  const inWindow = bad.filter((p) => p.step >= start && p.step <= totalSteps);
  if (inWindow.length) return { measurable: false, reason: `loss/fixed is ${inWindow[0].value} at step ${inWindow[0].step}` };
  const to = ok.find((p) => p.step === totalSteps);
  if (!to) return { measurable: false, reason: `no loss/fixed estimate at the last step ${totalSteps} (last one at step ${ok.at(-1)?.step ?? 'none'})` };
  const before = ok.filter((p) => p.step <= start);
  const from = before.at(-1);
  if (!from) return { measurable: false, reason: `no loss/fixed estimate at or before step ${start} (0.8 of ${totalSteps}); the first is at step ${ok[0].step}` };
  if (from.value === 0) return { measurable: false, reason: `loss/fixed is 0 at step ${from.step}: a relative change is undefined` };
  return {
    measurable: true,
    change: Math.abs(to.value - from.value) / Math.abs(from.value),
    from: { step: from.step, value: from.value }, to: { step: to.step, value: to.value }, // store points carry more (time)
    estimatesAfterStart: ok.filter((p) => p.step > from.step && p.step <= totalSteps).length,
  };
}

/** The minibatch `loss` over the last fifth (0.8 T, T]: second half's mean against the first half's. */
export function minibatchLossChange(points: readonly StepValue[], totalSteps: number): MinibatchLossChange {
  checkTotal(totalSteps, 'minibatchLossChange');
  const start = lastFifthStart(totalSteps);
  const mid = 0.9 * totalSteps;
  const window = [...points].filter((p) => p.step > start && p.step <= totalSteps).sort((a, b) => a.step - b.step);
  const bad = window.find((p) => !Number.isFinite(p.value));
  if (bad) return { measurable: false, reason: `loss is ${bad.value} at step ${bad.step}` };
  const first = window.filter((p) => p.step <= mid);
  const second = window.filter((p) => p.step > mid);
  if (first.length === 0 || second.length === 0) {
    return { measurable: false, reason: `the last fifth (${start}, ${totalSteps}] has ${first.length} loss points up to step ${mid} and ${second.length} after; both halves need one` };
  }
  const mean = (xs: StepValue[]) => xs.reduce((a, p) => a + p.value, 0) / xs.length;
  const firstMean = mean(first), secondMean = mean(second), all = mean(window);
  if (firstMean === 0) return { measurable: false, reason: `the mean loss over (${start}, ${mid}] is 0: a relative change is undefined` };
  const sd = window.length > 1 ? Math.sqrt(window.reduce((a, p) => a + (p.value - all) ** 2, 0) / (window.length - 1)) : 0;
  return { measurable: true, change: Math.abs(secondMean - firstMean) / Math.abs(firstMean), firstMean, secondMean, points: window.length, cv: sd / Math.abs(all) };
}

export interface RunConvergence {
  runId: number;
  label: string;
  totalSteps: number;
  fixed: FixedLossChange;
  minibatch: MinibatchLossChange;
}

export interface ConvergenceSummary {
  /** runs given (every one is in `runs`, measurable or not) */
  total: number;
  /** runs whose fixed-pair change could be measured */
  measured: number;
  threshold: number;
  /** of the measured runs: median and max relative change; null when none was measured */
  median: number | null;
  max: number | null;
  under: number;
  /** measured runs at or over the threshold, largest change first */
  over: RunConvergence[];
  notMeasurable: RunConvergence[];
  /** the same figures for the minibatch loss */
  minibatch: { measured: number; median: number | null; max: number | null; under: number; medianCv: number | null };
  runs: RunConvergence[];
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Every run's convergence, summarised against `threshold`. */
export function summariseConvergence(runs: RunConvergence[], threshold = CONVERGENCE_THRESHOLD): ConvergenceSummary {
  if (!(threshold > 0)) throw new Error(`summariseConvergence: threshold must be > 0, received ${threshold}`);
  const measured = runs.filter((r): r is RunConvergence & { fixed: { measurable: true } } => r.fixed.measurable);
  const changes = measured.map((r) => (r.fixed as Extract<FixedLossChange, { measurable: true }>).change);
  const mb = runs.map((r) => r.minibatch).filter((m): m is Extract<MinibatchLossChange, { measurable: true }> => m.measurable);
  const fixedChange = (r: RunConvergence) => (r.fixed as Extract<FixedLossChange, { measurable: true }>).change;
  return {
    total: runs.length,
    measured: measured.length,
    threshold,
    median: median(changes),
    max: changes.length ? Math.max(...changes) : null,
    under: changes.filter((c) => c < threshold).length,
    over: measured.filter((r) => fixedChange(r) >= threshold).sort((a, b) => fixedChange(b) - fixedChange(a)),
    notMeasurable: runs.filter((r) => !r.fixed.measurable),
    minibatch: {
      measured: mb.length,
      median: median(mb.map((m) => m.change)),
      max: mb.length ? Math.max(...mb.map((m) => m.change)) : null,
      under: mb.filter((m) => m.change < threshold).length,
      medianCv: median(mb.map((m) => m.cv)),
    },
    runs,
  };
}

/** One run's convergence from its store: the fixed-pair change and the minibatch figure over the last fifth
 *  of its `totalSteps` (the run page and the quickstart read the same). */
export async function runConvergence(
  store: { getMetricHistory(runId: number, key: string, range?: { minStep?: number; maxStep?: number }): StepValue[] | Promise<StepValue[]> },
  runId: number,
  totalSteps: number,
): Promise<{ totalSteps: number; threshold: number; fixed: FixedLossChange; minibatch: MinibatchLossChange }> {
  checkTotal(totalSteps, 'runConvergence');
  const fixed = fixedLossChange(await store.getMetricHistory(runId, TRAIN_METRICS.lossFixed), totalSteps);
  const minibatch = minibatchLossChange(await store.getMetricHistory(runId, TRAIN_METRICS.loss, { minStep: Math.floor(lastFifthStart(totalSteps)) }), totalSteps);
  return { totalSteps, threshold: CONVERGENCE_THRESHOLD, fixed, minibatch };
}
