// The trivial run kind: `steps` steps of a few milliseconds each, logging one metric per step
// (`noop/value` = the step) and a checkpoint row (no file) every `checkpointEvery` steps. It exercises
// claiming, leases, heartbeats, take-overs and SIGTERM without any tensor work (queue tests, smoke).
import { MetricLogger } from '../store/run_store.ts';
import type { RunContext, RunOutcome } from './run_context.ts';

export async function runNoop(ctx: RunContext): Promise<RunOutcome> {
  const { store, run, config } = ctx;
  const log = new MetricLogger(store, run.id, 64);
  const start = (await store.latestCheckpoint(run.id))?.step ?? 0;
  if (start > 0) ctx.log(`run ${run.id}: resuming from the checkpoint of step ${start}`);
  await store.truncateMetricsAfter(run.id, start); // steps after `start` are logged again
  ctx.progress.start(`run ${run.id} noop`, config.steps, start);
  const save = async (step: number) => {
    await log.flush();
    await store.addCheckpoint(run.id, step, '');
  };
  for (let step = start + 1; step <= config.steps; step++) {
    await new Promise((r) => setTimeout(r, 2));
    await log.log('noop/value', step, step);
    ctx.tick(step);
    ctx.progress.update(step);
    const periodic = config.checkpointEvery > 0 && step % config.checkpointEvery === 0 && step < config.steps;
    if (periodic) await save(step);
    if (ctx.shouldStop() && step < config.steps) {
      if (!periodic) await save(step);
      return 'stopped';
    }
  }
  await log.flush();
  ctx.progress.stop();
  return 'completed';
}
