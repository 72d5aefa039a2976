// The worker loop: claim a queued run (atomic, leased), execute it by kind, keep the lease alive,
// mark it completed/failed, repeat. SIGTERM/SIGINT: the current run checkpoints and is released.
// SIGUSR1 (what cancelling a run executed by a Slurm task sends, `scancel --batch --signal=USR1`): the
// current run checkpoints and stops (cancelled when a user asked, else released), and the worker goes on.
// The store is the SQLite RunStore or the tracking server's HTTP client (HttpStore): every call is
// awaited, and the heartbeat also re-queues other workers' expired leases (stale runs do not wait for
// a new worker to start).
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { validateConfig } from '../config.ts';
import { RunStore, type ExecutorInfo, type RunKind, type RunRecord, type WorkerStoreApi } from '../store/run_store.ts';
import { scancel } from '../launchers/slurm.ts';
import { codeVersion } from './code_version.ts';
import { detectExecutor } from './executor.ts';
import { checkInputsHere } from './node_paths.ts';
import { createProgress, silentProgress, type ProgressReporter } from './progress.ts';
import { LeaseLostError, runDirFor, type RunContext, type RunExecutor, type RunOutcome } from './run_context.ts';

/** Executors by run kind, loaded on first use (a noop worker never loads tfjs). */
const EXECUTORS: Record<Exclude<RunKind, 'sweep'>, () => Promise<RunExecutor>> = {
  noop: async () => (await import('./noop.ts')).runNoop,
  train: async () => (await import('../train/train_run.ts')).runTraining,
  evaluate: async () => (await import('../eval/evaluate_run.ts')).runEvaluation,
  pretrain: async () => (await import('../train/pretrain_run.ts')).runPretraining,
};

export interface WorkerOptions {
  /** A SQLite store file, or an open store (RunStore, HttpStore). */
  store: string | WorkerStoreApi;
  /** Lease owner id; default host:pid:random. */
  owner?: string;
  leaseMs?: number;
  heartbeatMs?: number;
  pollMs?: number;
  /** Exit when no run is queued (instead of polling forever). */
  untilEmpty?: boolean;
  maxRuns?: number;
  /** Only this run (resume). */
  runId?: number;
  quiet?: boolean;
  /** Progress reporter override (tests: silentProgress). */
  progress?: ProgressReporter;
  /** Install SIGTERM/SIGINT handlers (default true). */
  handleSignals?: boolean;
  /** What this worker runs inside (default: from the environment: Slurm, Kubernetes or local). */
  executor?: ExecutorInfo;
  log?: (line: string) => void;
}

export interface WorkerSummary {
  owner: string;
  completed: number[];
  failed: { id: number; error: string }[];
  released: number[];
  lost: number[];
  /** Runs a user cancelled (dashboard / CLI) while this worker ran them: checkpointed, then cancelled. */
  cancelled: number[];
}

export function defaultOwner(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/** Store errors that end the worker, not just the run: the server refuses this worker (token) or is gone. */
const isWorkerFatal = (err: unknown) => {
  const code = (err as { code?: string })?.code;
  return code === 'STORE_SERVER_REFUSED' || code === 'STORE_SERVER_UNREACHABLE';
};
const isLeaseLost = (err: unknown) => err instanceof LeaseLostError || (err as { code?: string })?.code === 'STORE_LEASE_LOST';

export async function runWorker(opts: WorkerOptions): Promise<WorkerSummary> {
  const store = typeof opts.store === 'string' ? RunStore.open(opts.store) : opts.store;
  const owner = opts.owner ?? defaultOwner();
  const leaseMs = opts.leaseMs ?? 60_000;
  const heartbeatMs = opts.heartbeatMs ?? Math.max(50, Math.floor(leaseMs / 4));
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const executor = opts.executor ?? detectExecutor();
  const summary: WorkerSummary = { owner, completed: [], failed: [], released: [], lost: [], cancelled: [] };
  let stop = false;
  let skip = false;
  const onSignal = (sig: string) => {
    if (!stop) log(`worker ${owner}: ${sig} received, finishing the current checkpoint and releasing the run`);
    stop = true;
  };
  const onSkip = () => {
    log(`worker ${owner}: SIGUSR1 received, stopping the current run (checkpointed) and going on with the next one`);
    skip = true;
  };
  const handlers =
    opts.handleSignals === false
      ? []
      : [...(['SIGTERM', 'SIGINT'] as const).map((sig) => [sig, () => onSignal(sig)] as const), ['SIGUSR1', onSkip] as const];
  for (const [sig, h] of handlers) process.on(sig, h);
  try {
    let done = 0;
    while (!stop && (opts.maxRuns === undefined || done < opts.maxRuns)) {
      const run = await store.claimRun(owner, leaseMs, { ...(opts.runId !== undefined ? { runId: opts.runId } : {}), executor });
      if (!run) {
        if (opts.untilEmpty && opts.runId === undefined) await cancelPendingTasks(executor, owner, log);
        if (opts.untilEmpty || opts.runId !== undefined) break;
        await sleepUnless(opts.pollMs ?? 1000, () => stop);
        continue;
      }
      done++;
      skip = false;
      await executeClaimed(store, run, owner, {
        leaseMs, heartbeatMs, progress: opts.progress ?? createProgress({ quiet: opts.quiet }), log, summary, stop: () => stop || skip,
      });
    }
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
    if (typeof opts.store === 'string') (store as RunStore).close();
  }
  return summary;
}

async function executeClaimed(
  store: WorkerStoreApi,
  run: RunRecord,
  owner: string,
  o: { leaseMs: number; heartbeatMs: number; progress: ProgressReporter; log: (l: string) => void; summary: WorkerSummary; stop: () => boolean },
): Promise<void> {
  let lost = false;
  let lastBeat = Date.now();
  let lastStep: number | undefined;
  let beating = false;
  const beat = async () => {
    lastBeat = Date.now();
    if (lost || beating) return;
    beating = true;
    try {
      if (!(await store.heartbeat(run.id, owner, o.leaseMs, lastStep))) lost = true;
      // Any live worker on the store re-queues runs whose worker died (their lease ran out); remote
      // workers leave that to the tracking server, which does it for all of them.
      if (store.workersReapStaleRuns) {
        const { requeued } = await store.requeueExpired();
        if (requeued.length) o.log(`worker ${owner}: re-queued run(s) ${requeued.join(', ')} whose lease expired (their worker died or hangs)`);
      }
    } catch (err) {
      if (isLeaseLost(err)) lost = true;
      else o.log(`run ${run.id}: heartbeat failed: ${(err as Error).message}`);
    } finally {
      beating = false;
    }
  };
  const timer = setInterval(() => void beat(), o.heartbeatMs);
  // A user's cancel request (store flag) stops the run like SIGTERM does: the executor checkpoints and
  // returns 'stopped'. Read at most once a second (shouldStop is called after every step), in the
  // background: shouldStop stays synchronous.
  let cancelAsked = false;
  let cancelReadAt = 0;
  const cancelRequested = () => {
    if (!cancelAsked && Date.now() - cancelReadAt >= 1000) {
      cancelReadAt = Date.now();
      void Promise.resolve(store.cancelRequested(run.id)).then(
        (v) => (cancelAsked = cancelAsked || v),
        () => {},
      );
    }
    return cancelAsked;
  };
  try {
    const config = validateConfig(run.config);
    const runDir = runDirFor(store, config, run.id);
    mkdirSync(runDir, { recursive: true });
    await store.setRunEnvironment(run.id, { codeVersion: codeVersion() });
    const ctx: RunContext = {
      store,
      run,
      config,
      runDir,
      progress: o.progress,
      tick(step) {
        lastStep = step;
        if (Date.now() - lastBeat >= o.heartbeatMs) void beat();
        if (lost) throw new LeaseLostError(run.id, owner);
      },
      shouldStop: () => o.stop() || cancelRequested(),
      log: o.log,
    };
    if (run.kind === 'sweep') throw new Error(`run ${run.id} is a sweep parent; it has nothing to execute`);
    checkInputsHere(run.id, config, run.kind);
    const outcome: RunOutcome = await (await EXECUTORS[run.kind]())(ctx);
    if (lost) throw new LeaseLostError(run.id, owner);
    if (lastStep !== undefined) await store.setProgress(run.id, lastStep);
    if (outcome === 'stopped' && !cancelAsked) {
      // Stopped by a signal: a cancel request may be what sent it (a remote store learns of it on a heartbeat).
      await beat();
      cancelAsked = await store.cancelRequested(run.id);
    }
    if (outcome === 'stopped' && cancelAsked) {
      await store.cancelRun(run.id, owner);
      o.summary.cancelled.push(run.id);
      o.log(`run ${run.id}: cancelled at step ${lastStep ?? 0} (its checkpoint is kept)`);
    } else if (outcome === 'stopped') {
      await store.releaseRun(run.id, owner);
      o.summary.released.push(run.id);
      o.log(`run ${run.id}: checkpointed and released back to the queue`);
    } else {
      await store.completeRun(run.id, owner);
      o.summary.completed.push(run.id);
    }
  } catch (err) {
    o.progress.stop();
    if (isLeaseLost(err) || lost) {
      o.summary.lost.push(run.id);
      o.log(isLeaseLost(err) ? (err as Error).message : `worker ${owner} lost the lease on run ${run.id}; stopping it`);
      return;
    }
    if (isWorkerFatal(err)) throw err;
    const message = (err as Error)?.message ?? String(err);
    try {
      await store.failRun(run.id, message, owner);
    } catch (failErr) {
      if (isLeaseLost(failErr)) {
        o.summary.lost.push(run.id);
        o.log(`run ${run.id} failed (${message}) after this worker lost its lease: ${(failErr as Error).message}`);
        return;
      }
      throw failErr;
    }
    o.summary.failed.push({ id: run.id, error: message });
    o.log(`run ${run.id} failed: ${message}`);
  } finally {
    clearInterval(timer);
  }
}

/**
 * The queue is empty: the array's tasks that have not started would only start to exit (on a GPU
 * cluster after waiting for a GPU), so cancel them. Running tasks are not touched: they go on with their
 * runs, and take any run re-queued later.
 */
async function cancelPendingTasks(executor: ExecutorInfo, owner: string, log: (l: string) => void): Promise<void> {
  if (executor.launcher !== 'slurm' || executor.task === null || !executor.job) return;
  const res = await scancel(executor.job, { pendingOnly: true });
  log(res.ok
    ? `worker ${owner}: no run is queued: cancelled the pending tasks of array job ${executor.job} (${res.message}); the running ones finish their runs`
    : `worker ${owner}: no run is queued; could not cancel the pending tasks of array job ${executor.job}: ${res.message}`);
}

function sleepUnless(ms: number, stop: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const iv = setInterval(() => {
      if (stop() || Date.now() - t0 >= ms) {
        clearInterval(iv);
        resolve();
      }
    }, Math.min(ms, 50));
  });
}

export { silentProgress };
