// The worker loop: claim a queued run (atomic, leased), execute it by kind, keep the lease alive,
// mark it completed/failed, repeat. SIGTERM/SIGINT: the current run checkpoints and is released.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { validateConfig } from '../config.ts';
import { RunStore, type RunKind, type RunRecord } from '../store/run_store.ts';
import { codeVersion } from './code_version.ts';
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
  store: string | RunStore;
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

export async function runWorker(opts: WorkerOptions): Promise<WorkerSummary> {
  const store = typeof opts.store === 'string' ? RunStore.open(opts.store) : opts.store;
  const owner = opts.owner ?? defaultOwner();
  const leaseMs = opts.leaseMs ?? 60_000;
  const heartbeatMs = opts.heartbeatMs ?? Math.max(50, Math.floor(leaseMs / 4));
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const summary: WorkerSummary = { owner, completed: [], failed: [], released: [], lost: [], cancelled: [] };
  let stop = false;
  const onSignal = (sig: string) => {
    if (!stop) log(`worker ${owner}: ${sig} received, finishing the current checkpoint and releasing the run`);
    stop = true;
  };
  const handlers = opts.handleSignals === false ? [] : (['SIGTERM', 'SIGINT'] as const).map((sig) => [sig, () => onSignal(sig)] as const);
  for (const [sig, h] of handlers) process.on(sig, h);
  try {
    let done = 0;
    while (!stop && (opts.maxRuns === undefined || done < opts.maxRuns)) {
      const run = store.claimRun(owner, leaseMs, opts.runId !== undefined ? { runId: opts.runId } : {});
      if (!run) {
        if (opts.untilEmpty || opts.runId !== undefined) break;
        await sleepUnless(opts.pollMs ?? 1000, () => stop);
        continue;
      }
      done++;
      await executeClaimed(store, run, owner, { leaseMs, heartbeatMs, progress: opts.progress ?? createProgress({ quiet: opts.quiet }), log, summary, stop: () => stop });
    }
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
    if (typeof opts.store === 'string') store.close();
  }
  return summary;
}

async function executeClaimed(
  store: RunStore,
  run: RunRecord,
  owner: string,
  o: { leaseMs: number; heartbeatMs: number; progress: ProgressReporter; log: (l: string) => void; summary: WorkerSummary; stop: () => boolean },
): Promise<void> {
  let lost = false;
  let lastBeat = Date.now();
  let lastStep: number | undefined;
  const beat = () => {
    lastBeat = Date.now();
    if (!lost && !store.heartbeat(run.id, owner, o.leaseMs, lastStep)) lost = true;
  };
  const timer = setInterval(beat, o.heartbeatMs);
  // A user's cancel request (store flag) stops the run like SIGTERM does: the executor checkpoints and
  // returns 'stopped'. Read at most once a second: shouldStop is called after every step.
  let cancelAsked = false;
  let cancelReadAt = 0;
  const cancelRequested = () => {
    if (!cancelAsked && Date.now() - cancelReadAt >= 1000) {
      cancelReadAt = Date.now();
      cancelAsked = store.cancelRequested(run.id);
    }
    return cancelAsked;
  };
  try {
    const config = validateConfig(run.config);
    const runDir = runDirFor(store, config, run.id);
    mkdirSync(runDir, { recursive: true });
    store.setRunEnvironment(run.id, { codeVersion: codeVersion() });
    const ctx: RunContext = {
      store,
      run,
      config,
      runDir,
      progress: o.progress,
      tick(step) {
        lastStep = step;
        if (Date.now() - lastBeat >= o.heartbeatMs) beat();
        if (lost) throw new LeaseLostError(run.id, owner);
      },
      shouldStop: () => o.stop() || cancelRequested(),
      log: o.log,
    };
    if (run.kind === 'sweep') throw new Error(`run ${run.id} is a sweep parent; it has nothing to execute`);
    const outcome: RunOutcome = await (await EXECUTORS[run.kind]())(ctx);
    clearInterval(timer);
    if (lost) throw new LeaseLostError(run.id, owner);
    if (lastStep !== undefined) store.setProgress(run.id, lastStep);
    if (outcome === 'stopped' && cancelAsked) {
      store.cancelRun(run.id, owner);
      o.summary.cancelled.push(run.id);
      o.log(`run ${run.id}: cancelled at step ${lastStep ?? 0} (its checkpoint is kept)`);
    } else if (outcome === 'stopped') {
      store.releaseRun(run.id, owner);
      o.summary.released.push(run.id);
      o.log(`run ${run.id}: checkpointed and released back to the queue`);
    } else {
      store.completeRun(run.id, owner);
      o.summary.completed.push(run.id);
    }
  } catch (err) {
    clearInterval(timer);
    o.progress.stop();
    if (err instanceof LeaseLostError || lost) {
      o.summary.lost.push(run.id);
      o.log((err as Error).message);
      return;
    }
    const message = (err as Error)?.message ?? String(err);
    store.failRun(run.id, message, owner);
    o.summary.failed.push({ id: run.id, error: message });
    o.log(`run ${run.id} failed: ${message}`);
  }
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
