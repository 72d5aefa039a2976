// Cancelling a run wherever it executes: the store's cancel (a queued run is cancelled at once, a held
// running run is flagged: its worker checkpoints and marks it cancelled), then, for a run executed by a
// Slurm array task, `scancel --batch --signal=USR1 JOB_TASK`: the task's worker stops that run at once
// and goes on with the next queued run (the task is an --until-empty worker, not the run). When no run
// is left queued, the array's pending tasks are cancelled too (`scancel --state=PENDING JOB`): they
// would start only to find an empty queue. One function for the CLI (`ssmb runs cancel`) and the
// dashboard (POST /api/runs/:id/cancel).
import type { RunRecord, RunStoreApi } from '../store/run_store.ts';
import { scancel as defaultScancel } from './slurm.ts';

export interface LauncherCancel {
  target: string;
  ok: boolean;
  message: string;
}

export interface CancelOutcome {
  outcome: 'cancelled' | 'requested';
  /** What was asked of Slurm (empty for runs no Slurm task executes). */
  launcher: LauncherCancel[];
}

type Store = Pick<RunStoreApi, 'requireRun' | 'listRuns' | 'requestCancel'>;

export async function cancelRunEverywhere(store: Store, runId: number, opts: { scancel?: typeof defaultScancel } = {}): Promise<CancelOutcome> {
  const scancel = opts.scancel ?? defaultScancel;
  const run = await store.requireRun(runId);
  const members: RunRecord[] = run.kind === 'sweep' ? await store.listRuns({ parentRunId: runId, archived: 'include' }) : [run];
  const outcome = await store.requestCancel(runId);
  const launcher: LauncherCancel[] = [];
  const jobs = new Set<string>();
  for (const m of members) {
    if (m.launcher !== 'slurm' || !m.launcherJob) continue;
    jobs.add(m.launcherJob);
    if (m.status !== 'running' || m.launcherTask === null) continue;
    const target = `${m.launcherJob}_${m.launcherTask}`;
    launcher.push({ target, ...(await scancel(target, { signal: 'USR1', batchOnly: true })) });
  }
  if (jobs.size > 0 && (await store.listRuns({ status: 'queued', limit: 1 })).length === 0) {
    for (const job of jobs) launcher.push({ target: job, ...(await scancel(job, { pendingOnly: true })) });
  }
  return { outcome, launcher };
}
