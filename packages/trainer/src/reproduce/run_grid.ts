// Running a planned grid: queue what is missing (re-queue failed runs so they resume from their
// checkpoints), hand interrupted runs of dead local workers back to the queue, then let worker
// processes drain the queue while progress is read from the store.
import type { ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import { launchRun } from '../launch.ts';
import type { RunRecord, RunStore } from '../store/run_store.ts';
import type { PlannedEntry } from './resume.ts';

export interface EnqueueResult {
  launched: number[];
  requeued: number[];
}

/** Queue every 'todo' entry: a failed/cancelled run is re-queued (keeps its checkpoints), else a new run. */
export function enqueuePlan(store: RunStore, plan: PlannedEntry[], experiment: string): EnqueueResult {
  const res: EnqueueResult = { launched: [], requeued: [] };
  store.transaction(() => {
    for (const p of plan) {
      if (p.state !== 'todo') continue;
      if (p.run && (p.run.status === 'failed' || p.run.status === 'cancelled')) {
        store.requeueRun(p.run.id);
        res.requeued.push(p.run.id);
        p.run = store.requireRun(p.run.id);
      } else {
        const id = launchRun(store, p.config, { experiment, name: p.entry.label });
        res.launched.push(id);
        p.run = store.requireRun(id);
      }
      p.state = 'pending';
    }
  });
  return res;
}

/**
 * Queued runs of `experiment` that are not in `keep` (left by an earlier version of the table or of
 * the sizes) would be executed by our workers, which drain the whole queue: cancel them.
 */
export function cancelStaleQueued(store: RunStore, experiment: string, keep: number[]): number[] {
  const keepSet = new Set(keep);
  const stale = store.listRuns({ experiment, status: 'queued' }).filter((r) => r.kind !== 'sweep' && !keepSet.has(r.id));
  for (const r of stale) store.cancelRun(r.id);
  return stale.map((r) => r.id);
}

/** Is the lease owner (`host:pid:rand`, the worker's default) a process on this host that is gone? */
export function ownerIsDeadLocal(owner: string | null): boolean {
  if (!owner) return false;
  const [host, pidText] = owner.split(':');
  const pid = Number(pidText);
  if (host !== hostname() || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Runs left 'running' by a killed local worker would wait for their lease to expire. When every
 * running run in the store belongs to a dead local process, expire them now (they resume from their
 * last checkpoint). Any live or remote owner: leave the leases alone.
 */
export function reclaimDeadLeases(store: RunStore): number[] {
  const running = store.listRuns({ status: 'running' });
  if (running.length === 0 || !running.every((r) => ownerIsDeadLocal(r.leaseOwner))) return [];
  const { requeued, failed } = store.requeueExpired(Number.MAX_SAFE_INTEGER);
  for (const id of failed) store.requeueRun(id); // out of attempts only because it was killed: fresh budget
  return [...requeued, ...failed];
}

export interface GridProgress {
  total: number;
  completed: number;
  failed: number;
  running: Array<{ id: number; name: string; step: number; totalSteps: number | null }>;
  /** Runs that finished since the last report. */
  finished: RunRecord[];
}

export interface RunQueueOptions {
  store: RunStore;
  /** Run ids to wait for. */
  runIds: number[];
  /** Start one worker process (it should drain the queue and exit). */
  spawnWorker: (index: number) => ChildProcess;
  workers: number;
  onProgress?: (p: GridProgress) => void;
  pollMs?: number;
  /** Worker processes may be restarted this many times in total when they die with runs left. */
  maxRestarts?: number;
  /** Aborting stops the workers (they checkpoint and release their runs) and returns. SIGINT and
   *  SIGTERM of this process do the same. */
  signal?: AbortSignal;
}

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/**
 * Start the workers and wait until every run is finished, the workers cannot go on, or a stop was
 * requested (`interrupted`: the workers released their runs, which resume on the next call).
 */
export async function runQueue(opts: RunQueueOptions): Promise<{ completed: number[]; failed: RunRecord[]; interrupted: boolean }> {
  const { store, runIds } = opts;
  const live = new Set<ChildProcess>();
  let restarts = opts.maxRestarts ?? 2;
  let stopping = false;
  const seen = new Set<number>();
  const start = (i: number) => {
    const child = opts.spawnWorker(i);
    live.add(child);
    child.on('exit', () => live.delete(child));
  };
  const stopAll = () => {
    stopping = true;
    for (const c of live) c.kill('SIGTERM');
  };
  if (opts.signal?.aborted) stopping = true;
  opts.signal?.addEventListener('abort', stopAll, { once: true });
  process.on('SIGINT', stopAll);
  process.on('SIGTERM', stopAll);
  try {
    const unfinished = runIds.filter((id) => !TERMINAL.has(store.requireRun(id).status));
    if (!stopping) for (let i = 0; i < Math.min(opts.workers, Math.max(1, unfinished.length)); i++) start(i);
    for (;;) {
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 1000));
      const runs = runIds.map((id) => store.requireRun(id));
      const finished = runs.filter((r) => TERMINAL.has(r.status) && !seen.has(r.id));
      finished.forEach((r) => seen.add(r.id));
      opts.onProgress?.({
        total: runs.length,
        completed: runs.filter((r) => r.status === 'completed').length,
        failed: runs.filter((r) => r.status === 'failed' || r.status === 'cancelled').length,
        running: runs.filter((r) => r.status === 'running').map((r) => ({ id: r.id, name: r.name, step: r.step, totalSteps: r.totalSteps })),
        finished,
      });
      if (runs.every((r) => TERMINAL.has(r.status))) break;
      if (live.size > 0) continue;
      // No worker left: stopped on request, or the workers drained the queue while runs are unfinished
      // (a worker died mid-run, or another process holds them): restart one a bounded number of times.
      if (stopping || restarts-- <= 0) break;
      reclaimDeadLeases(store);
      start(0);
    }
  } finally {
    opts.signal?.removeEventListener('abort', stopAll);
    process.off('SIGINT', stopAll);
    process.off('SIGTERM', stopAll);
    await Promise.all([...live].map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('exit', r)))));
  }
  const runs = runIds.map((id) => store.requireRun(id));
  return {
    completed: runs.filter((r) => r.status === 'completed').map((r) => r.id),
    failed: runs.filter((r) => r.status === 'failed' || r.status === 'cancelled'),
    interrupted: stopping,
  };
}
