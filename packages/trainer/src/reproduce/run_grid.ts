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

/**
 * Who executes the queued runs while runQueue waits: local worker processes (localPool) or a Slurm
 * array job (tools' slurm pool). `active` counts workers alive or about to start; when it drops to 0
 * with runs unfinished, runQueue starts more (a bounded number of times).
 */
export interface WorkerPool {
  start(n: number): Promise<void> | void;
  active(): Promise<number> | number;
  /** Ctrl-C / abort: local workers checkpoint and release their runs; a cluster job is left running. */
  interrupt(): void;
  /** Resolves when this pool's local processes are gone. */
  settle(): Promise<void>;
  /** Said when interrupted (where the work goes on, how to resume or stop it). */
  interruptedNote?(): string;
}

/** Worker processes on this machine, started by `spawnWorker(index)`. */
export function localPool(spawnWorker: (index: number) => ChildProcess): WorkerPool {
  const live = new Set<ChildProcess>();
  let next = 0;
  return {
    start(n) {
      for (let i = 0; i < n; i++) {
        const child = spawnWorker(next++);
        live.add(child);
        child.on('exit', () => live.delete(child));
      }
    },
    active: () => live.size,
    interrupt() {
      for (const c of live) c.kill('SIGTERM');
    },
    settle: () => Promise.all([...live].map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('exit', r))))).then(() => {}),
  };
}

/**
 * Stale runs: a running run whose lease expired is re-queued now, and so is one whose lease owner is
 * a process on this machine that is gone (no need to wait for its lease to run out). Returns the ids.
 */
export function requeueStale(store: RunStore): number[] {
  const dead = store.listRuns({ status: 'running' }).filter((r) => ownerIsDeadLocal(r.leaseOwner));
  const out: number[] = [];
  for (const r of dead) out.push(...store.expireLease(r.id, r.leaseOwner!).requeued);
  out.push(...store.requeueExpired().requeued);
  return [...new Set(out)];
}

export interface RunQueueOptions {
  store: RunStore;
  /** Run ids to wait for. */
  runIds: number[];
  /** Start one worker process (it should drain the queue and exit); or give `pool`. */
  spawnWorker?: (index: number) => ChildProcess;
  /** Who executes the runs (default: localPool(spawnWorker)). */
  pool?: WorkerPool;
  /** Workers to start (local processes; array tasks). */
  workers: number;
  onProgress?: (p: GridProgress) => void;
  /** Stale runs this loop re-queued (lease expired, or a dead local worker). */
  onRequeue?: (ids: number[]) => void;
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
 * requested (`interrupted`: the workers released their runs, which resume on the next call). Each poll
 * also re-queues stale runs, so a run whose worker died goes to a live worker without waiting for a new
 * one to start.
 */
export async function runQueue(opts: RunQueueOptions): Promise<{ completed: number[]; failed: RunRecord[]; interrupted: boolean }> {
  const { store, runIds } = opts;
  if (!opts.pool && !opts.spawnWorker) throw new Error('runQueue: give pool or spawnWorker');
  const pool = opts.pool ?? localPool(opts.spawnWorker!);
  let restarts = opts.maxRestarts ?? 2;
  let stopping = false;
  const seen = new Set<number>();
  const stopAll = () => {
    stopping = true;
    pool.interrupt();
  };
  if (opts.signal?.aborted) stopping = true;
  opts.signal?.addEventListener('abort', stopAll, { once: true });
  process.on('SIGINT', stopAll);
  process.on('SIGTERM', stopAll);
  try {
    const unfinished = runIds.filter((id) => !TERMINAL.has(store.requireRun(id).status));
    const already = await pool.active();
    if (!stopping && already === 0) await pool.start(Math.min(opts.workers, Math.max(1, unfinished.length)));
    for (;;) {
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 1000));
      if (stopping) break;
      const requeued = requeueStale(store);
      if (requeued.length) opts.onRequeue?.(requeued);
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
      if ((await pool.active()) > 0) continue;
      // No worker left: the workers drained the queue while runs are unfinished (a worker died mid-run,
      // or another process holds them): start more a bounded number of times.
      if (restarts-- <= 0) break;
      reclaimDeadLeases(store);
      const left = runs.filter((r) => !TERMINAL.has(r.status)).length;
      await pool.start(Math.min(opts.workers, Math.max(1, left)));
    }
  } finally {
    opts.signal?.removeEventListener('abort', stopAll);
    process.off('SIGINT', stopAll);
    process.off('SIGTERM', stopAll);
    await pool.settle();
  }
  const runs = runIds.map((id) => store.requireRun(id));
  return {
    completed: runs.filter((r) => r.status === 'completed').map((r) => r.id),
    failed: runs.filter((r) => r.status === 'failed' || r.status === 'cancelled'),
    interrupted: stopping,
  };
}
