// How long a row of the GPU check will take, from the rows already measured: the check keeps inside its
// time limit by skipping a row whose estimate does not fit in what is left.
import { iresnetConfig } from '../../../packages/core/src/models/iresnet_family.ts';

export interface MeasuredRow {
  model: string;
  provider: string;
  batch: number;
  /** seconds: building the graph and opening the training session; the first (warm-up) step; the best
   *  timed step; the best inference of the batch. NaN where that work was not run. */
  openS: number;
  firstS: number;
  stepS: number;
  inferS: number;
}

/** Relative cost of one image through an IResNet: its blocks cost alike at every stage (channels double
 *  as the side halves), so blocks x input area. */
export function costOf(model: string): number {
  const c = iresnetConfig(model);
  return c.depths.reduce((a, d) => a + d, 1) * c.inputSize ** 2;
}

const n = (x: number) => (Number.isFinite(x) ? x : 0);

/** Seconds a row is expected to take: the same provider's row of this model (else its last row, scaled
 *  by cost), scaled by batch: the session's opening, the first run's extra (shader compilation on a GPU),
 *  one warm-up and one timed run of the step and of inference. null: nothing on this provider measured yet.
 *  A row whose work was not run counts it as nothing (NaN), except inference, taken as a third of a step. */
export function estimateRow(measured: readonly MeasuredRow[], model: string, provider: string, batch: number): number | null {
  const same = measured.filter((m) => m.provider === provider);
  if (!same.length) return null;
  const ref = [...same].reverse().find((m) => m.model === model) ?? same[same.length - 1];
  const modelScale = costOf(model) / costOf(ref.model);
  // a row measured without inference (the gradient check's steps): a forward is about a third of a step
  const infer = Number.isFinite(ref.inferS) ? ref.inferS : n(ref.stepS) / 3;
  const perRun = (n(ref.stepS) + infer) * (batch / ref.batch) * modelScale;
  return n(ref.openS) * modelScale + Math.max(0, n(ref.firstS) - n(ref.stepS)) + 2 * perRun;
}
