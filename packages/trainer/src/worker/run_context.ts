// What a run executor gets from the worker: the claimed run, its validated config, where to write,
// and the hooks that keep the lease alive and honour SIGTERM.
import path from 'node:path';
import type { Config } from '../config.ts';
import type { RunRecord, WorkerStoreApi } from '../store/run_store.ts';
import type { ProgressReporter } from './progress.ts';

export interface RunContext {
  /** The SQLite store, or the tracking server's HTTP client: await every call. */
  store: WorkerStoreApi;
  run: RunRecord;
  config: Config;
  /** Directory for this run's checkpoints, score files and weights. */
  runDir: string;
  progress: ProgressReporter;
  /** Heartbeat (throttled) + progress; throws LeaseLostError when another worker took the run. */
  tick(step: number): void;
  /** True once the worker was asked to stop (SIGTERM): checkpoint and return 'stopped'. */
  shouldStop(): boolean;
  /** The worker's log (one line per call): what an attempt repaired or could not do. */
  log(line: string): void;
}

export type RunOutcome = 'completed' | 'stopped';
export type RunExecutor = (ctx: RunContext) => Promise<RunOutcome>;

export class LeaseLostError extends Error {
  constructor(runId: number, owner: string) {
    super(`worker ${owner} lost the lease on run ${runId} (it expired and the run was re-queued); stopping without writing`);
    this.name = 'LeaseLostError';
  }
}

/** <outputDir, or the store's run files folder (store dir/artifacts; a remote worker's upload folder)>/run-<id> */
export function runDirFor(store: Pick<WorkerStoreApi, 'runFilesDir'>, config: Config, runId: number): string {
  return path.resolve(config.outputDir ?? store.runFilesDir, `run-${runId}`);
}
