// The trivial run kind: `steps` steps of a few milliseconds each, logging one metric per step.
// It exercises claiming, leases, heartbeats and SIGTERM without any tensor work (queue tests, smoke).
import type { RunContext, RunOutcome } from './run_context.ts';

export async function runNoop(ctx: RunContext): Promise<RunOutcome> {
  const { store, run, config } = ctx;
  const log = store.metricLogger(run.id, 64);
  const start = store.latestCheckpoint(run.id)?.step ?? 0;
  store.truncateMetricsAfter(run.id, start); // steps after `start` are logged again
  ctx.progress.start(`run ${run.id} noop`, config.steps, start);
  for (let step = start + 1; step <= config.steps; step++) {
    await new Promise((r) => setTimeout(r, 2));
    log.log('noop/value', step, step);
    ctx.tick(step);
    ctx.progress.update(step);
    if (ctx.shouldStop() && step < config.steps) {
      log.flush();
      store.addCheckpoint(run.id, step, '');
      return 'stopped';
    }
  }
  log.flush();
  ctx.progress.stop();
  return 'completed';
}
