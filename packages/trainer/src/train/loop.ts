// The step loop shared by SSMB training and backbone pre-training: per-step metrics (buffered),
// img/s, lease heartbeat, progress, periodic checkpoints/evaluation, checkpoint pruning, and a clean stop
// on SIGTERM. A restart (resume, or a crashed attempt re-claimed) is exact: history after the restart
// step is dropped before the steps are logged again, and scheduled evaluations that a kill lost are run.
// Every store call is awaited: the store may be the tracking server's HTTP client.
import { pruneCheckpoints } from '../checkpoint/retention.ts';
import { MetricLogger, type WorkerStoreApi } from '../store/run_store.ts';
import type { RunContext, RunOutcome } from '../worker/run_context.ts';
import { TRAIN_METRICS } from '../metric_keys.ts';
import { isLossEstimateStep } from './fixed_loss.ts';

export interface LoopHooks {
  /** Last completed step (0 for a fresh run, the checkpoint's step on resume). */
  startStep: number;
  totalSteps: number;
  imagesPerStep: number;
  checkpointEvery: number;
  evalEvery: number;
  /** Runs step `step` (1-based); returns its metrics (must include `loss`); may be async (onnxruntime). */
  step(step: number): Record<string, number> | Promise<Record<string, number>>;
  /** Writes a checkpoint after `step` and returns its path. */
  checkpoint(step: number): string;
  /** Mid-run evaluation after `step` (every evalEvery steps, not at the last step); logs `eval/<metric>` at `step`. */
  evaluate?(step: number): Promise<void>;
  /** The fixed-pair loss estimate (train.lossEvery > 0): the objective at the current parameters, nothing
   *  updated; logged (with its seconds) at step 0, every `every` steps and the last step. */
  lossEstimate?: { every: number; estimate(step: number): Record<string, number> | Promise<Record<string, number>> };
}

/** Per-step metric keys of mid-run evaluations start with this. */
export const EVAL_KEY_PREFIX = 'eval/';

/** Steps at which mid-run evaluation metrics (`eval/*`) are recorded. */
export async function evaluatedSteps(store: Pick<WorkerStoreApi, 'metricKeys' | 'getMetricHistory'>, runId: number): Promise<Set<number>> {
  const steps = new Set<number>();
  for (const key of await store.metricKeys(runId)) {
    if (key.startsWith(EVAL_KEY_PREFIX)) for (const p of await store.getMetricHistory(runId, key)) steps.add(p.step);
  }
  return steps;
}

/** Steps <= `upTo` at which the schedule evaluates (multiples of evalEvery, the last step excluded). */
export function scheduledEvalSteps(evalEvery: number, totalSteps: number, upTo: number): number[] {
  if (evalEvery <= 0) return [];
  const out: number[] = [];
  for (let s = evalEvery; s <= Math.min(upTo, totalSteps - 1); s += evalEvery) out.push(s);
  return out;
}

/** Run tag listing scheduled evaluations that were lost and cannot be re-run (their weights are gone). */
export const LOST_EVAL_TAG = 'eval.lost_steps';

export async function runLoop(ctx: RunContext, label: string, h: LoopHooks): Promise<RunOutcome> {
  const { store, run } = ctx;
  // Steps after the restart point are logged again below: drop what an earlier attempt logged for them,
  // checkpoint or not (a run killed before its first checkpoint restarts from 0).
  await store.truncateMetricsAfter(run.id, h.startStep);
  const log = new MetricLogger(store, run.id, 512);
  const prune = () => pruneCheckpoints(store, run.id, ctx.config.checkpoint);
  const save = async (step: number) => {
    await log.flush();
    await store.addCheckpoint(run.id, step, h.checkpoint(step));
    await prune();
  };
  const evaluate = async (step: number) => {
    await log.flush();
    await h.evaluate!(step);
    await prune(); // the new value may make this checkpoint the best
  };
  const estimate = async (step: number) => {
    const t0 = performance.now();
    const m = await h.lossEstimate!.estimate(step);
    await log.logMany({ ...m, [TRAIN_METRICS.lossFixedSeconds]: (performance.now() - t0) / 1000 }, step);
  };
  // Estimates are logged before the checkpoint of their step (whose save flushes them), so a resume never
  // lacks one before its start; the one AT the start is missing when it is step 0 of a run killed before
  // any checkpoint was written with it, or the start is the end: logged now, from the same weights.
  if (h.lossEstimate && isLossEstimateStep(h.startStep, h.lossEstimate.every, h.totalSteps)) {
    const logged = await store.getMetricHistory(run.id, TRAIN_METRICS.lossFixed, { minStep: h.startStep, maxStep: h.startStep });
    if (!logged.some((p) => p.step === h.startStep)) {
      await estimate(h.startStep);
      await log.flush();
    }
  }
  if (h.evaluate) {
    // A kill during the evaluation after checkpoint `startStep` loses it: the model is at that step
    // again now, so run it. Earlier lost ones (stores written before this check) cannot be re-run from
    // the current weights; they are recorded as a run tag rather than dropped silently.
    const done = await evaluatedSteps(store, run.id);
    const missing = scheduledEvalSteps(h.evalEvery, h.totalSteps, h.startStep).filter((s) => !done.has(s));
    const lost = missing.filter((s) => s !== h.startStep);
    if (lost.length > 0) await store.setTag(run.id, LOST_EVAL_TAG, lost.join(','));
    if (missing.includes(h.startStep)) await evaluate(h.startStep);
  }
  ctx.progress.start(label, h.totalSteps, h.startStep);
  let ema: number | undefined;
  try {
    for (let step = h.startStep + 1; step <= h.totalSteps; step++) {
      const t0 = performance.now();
      const m = await h.step(step);
      const seconds = (performance.now() - t0) / 1000;
      const imgPerSec = h.imagesPerStep / Math.max(seconds, 1e-9);
      // Awaited: a remote store whose disk buffer is full pauses the loop here rather than drop points.
      await log.logMany({ ...m, [TRAIN_METRICS.imgPerSec]: imgPerSec, [TRAIN_METRICS.stepSeconds]: seconds }, step);
      ema = ema === undefined ? imgPerSec : 0.9 * ema + 0.1 * imgPerSec;
      ctx.tick(step);
      ctx.progress.update(step, { loss: m.loss, imgPerSec: ema });
      if (h.lossEstimate && isLossEstimateStep(step, h.lossEstimate.every, h.totalSteps)) await estimate(step);
      const last = step === h.totalSteps;
      if (last || (h.checkpointEvery > 0 && step % h.checkpointEvery === 0)) await save(step);
      if (h.evaluate && !last && h.evalEvery > 0 && step % h.evalEvery === 0) await evaluate(step);
      // Let timers (heartbeat) and signal handlers run between steps.
      await new Promise((r) => setImmediate(r));
      if (ctx.shouldStop() && !last) {
        if (!(h.checkpointEvery > 0 && step % h.checkpointEvery === 0)) await save(step);
        ctx.progress.stop(`run ${run.id}: stopped at step ${step}/${h.totalSteps}`);
        return 'stopped';
      }
    }
  } finally {
    await log.flush();
  }
  ctx.progress.stop();
  return 'completed';
}
