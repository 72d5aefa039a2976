// The step loop shared by SSMB training and backbone pre-training: per-step metrics (buffered),
// img/s, lease heartbeat, progress, periodic checkpoints/evaluation, and a clean stop on SIGTERM.
import type { RunContext, RunOutcome } from '../worker/run_context.ts';

export interface LoopHooks {
  /** Last completed step (0 for a fresh run, the checkpoint's step on resume). */
  startStep: number;
  totalSteps: number;
  imagesPerStep: number;
  checkpointEvery: number;
  evalEvery: number;
  /** Runs step `step` (1-based); returns its metrics (must include `loss`). */
  step(step: number): Record<string, number>;
  /** Writes a checkpoint after `step` and returns its path. */
  checkpoint(step: number): string;
  evaluate?(step: number): Promise<void>;
}

export async function runLoop(ctx: RunContext, label: string, h: LoopHooks): Promise<RunOutcome> {
  const { store, run } = ctx;
  const log = store.metricLogger(run.id, 512);
  const save = (step: number) => {
    log.flush();
    store.addCheckpoint(run.id, step, h.checkpoint(step));
  };
  ctx.progress.start(label, h.totalSteps, h.startStep);
  let ema: number | undefined;
  try {
    for (let step = h.startStep + 1; step <= h.totalSteps; step++) {
      const t0 = performance.now();
      const m = h.step(step);
      const seconds = (performance.now() - t0) / 1000;
      const imgPerSec = h.imagesPerStep / Math.max(seconds, 1e-9);
      log.logMany({ ...m, 'perf/img_per_sec': imgPerSec, 'perf/step_seconds': seconds }, step);
      ema = ema === undefined ? imgPerSec : 0.9 * ema + 0.1 * imgPerSec;
      ctx.tick(step);
      ctx.progress.update(step, { loss: m.loss, imgPerSec: ema });
      const last = step === h.totalSteps;
      if (last || (h.checkpointEvery > 0 && step % h.checkpointEvery === 0)) save(step);
      if (h.evaluate && !last && h.evalEvery > 0 && step % h.evalEvery === 0) {
        log.flush();
        await h.evaluate(step);
      }
      // Let timers (heartbeat) and signal handlers run between steps.
      await new Promise((r) => setImmediate(r));
      if (ctx.shouldStop() && !last) {
        if (!(h.checkpointEvery > 0 && step % h.checkpointEvery === 0)) save(step);
        ctx.progress.stop(`run ${run.id}: stopped at step ${step}/${h.totalSteps}`);
        return 'stopped';
      }
    }
  } finally {
    log.flush();
  }
  ctx.progress.stop();
  return 'completed';
}
