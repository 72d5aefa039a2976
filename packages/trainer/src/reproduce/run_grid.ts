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

/** What runQueue reads of a run: from the store, or from the tracking server that owns it. */
export type QueueRun = Pick<RunRecord, 'id' | 'name' | 'status' | 'step' | 'totalSteps' | 'error' | 'attempts' | 'leaseOwner' | 'leaseExpiresAt'>;

export interface GridProgress {
  total: number;
  completed: number;
  failed: number;
  running: Array<{ id: number; name: string; step: number; totalSteps: number | null }>;
  /** Runs that finished since the last report. */
  finished: QueueRun[];
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
  /** The store on this machine; or give `readRuns` (a client of the tracking server, which alone opens the store). */
  store?: RunStore;
  /** The runs' current records, in the order asked (instead of `store`; stale runs are then the server's to re-queue). */
  readRuns?: (ids: number[]) => Promise<QueueRun[]>;
  /** Run ids to wait for. */
  runIds: number[];
  /** Start one worker process (it should drain the queue and exit); or give `pool`. */
  spawnWorker?: (index: number) => ChildProcess;
  /** Who executes the runs (default: localPool(spawnWorker)). */
  pool?: WorkerPool;
  /** Workers to start (local processes; array tasks). */
  workers: number;
  onProgress?: (p: GridProgress) => unknown;
  /** Stale runs this loop re-queued (lease expired, or a dead local worker). */
  onRequeue?: (ids: number[]) => void;
  pollMs?: number;
  /** Workers may be started again this many times in a row, without a run finishing in between, when
   *  none is left while runs are queued. */
  maxRestarts?: number;
  /** Re-queue stale runs from this process (default true: the local launcher). With a tracking server
   *  (Slurm), the server alone does it: it owns the store. */
  reapStale?: boolean;
  /** Said once per run whose lease is waited for (no worker left, the run still held by a lease). */
  onWait?: (run: QueueRun, note: string) => void;
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
export interface RunQueueResult {
  completed: number[];
  failed: QueueRun[];
  interrupted: boolean;
  /** Why the loop stopped with runs unfinished (workers started again and again took none), or null. */
  gaveUp: string | null;
}

export async function runQueue(opts: RunQueueOptions): Promise<RunQueueResult> {
  const { store, runIds } = opts;
  if (!opts.pool && !opts.spawnWorker) throw new Error('runQueue: give pool or spawnWorker');
  if (!store && !opts.readRuns) throw new Error('runQueue: give store or readRuns');
  const read = async (ids: number[]): Promise<QueueRun[]> => (opts.readRuns ? opts.readRuns(ids) : ids.map((id) => store!.requireRun(id)));
  // Without the store, stale runs are the tracking server's to re-queue: it owns the store.
  const reap = opts.reapStale !== false && store ? store : null;
  const pool = opts.pool ?? localPool(opts.spawnWorker!);
  const maxRestarts = opts.maxRestarts ?? 2;
  let restarts = maxRestarts;
  let stopping = false;
  let gaveUp: string | null = null;
  const waitedFor = new Set<string>();
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
    const unfinished = (await read(runIds)).filter((r) => !TERMINAL.has(r.status));
    const already = await pool.active();
    if (!stopping && already === 0) await pool.start(Math.min(opts.workers, Math.max(1, unfinished.length)));
    for (;;) {
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 1000));
      if (stopping) break;
      if (reap) {
        const requeued = requeueStale(reap);
        if (requeued.length) opts.onRequeue?.(requeued);
      }
      let runs = await read(runIds);
      const finished = runs.filter((r) => TERMINAL.has(r.status) && !seen.has(r.id));
      finished.forEach((r) => seen.add(r.id));
      if (finished.length) restarts = maxRestarts; // progress: the budget is for restarts that finish nothing
      await opts.onProgress?.({
        total: runs.length,
        completed: runs.filter((r) => r.status === 'completed').length,
        failed: runs.filter((r) => r.status === 'failed' || r.status === 'cancelled').length,
        running: runs.filter((r) => r.status === 'running').map((r) => ({ id: r.id, name: r.name, step: r.step, totalSteps: r.totalSteps })),
        finished,
      });
      if (runs.every((r) => TERMINAL.has(r.status))) break;
      if ((await pool.active()) > 0) continue;
      // No worker left with runs unfinished. A run still 'running' is held by a lease: its worker is
      // alive elsewhere, or died (on another host) and its lease has not run out yet. New workers would
      // find nothing queued and exit, so wait: when the lease runs out the run is re-queued (by the
      // tracking server, or above), and workers are started for what is queued then.
      if (reap && reclaimDeadLeases(reap).length) runs = await read(runIds);
      const queued = runs.filter((r) => r.status === 'queued');
      if (queued.length === 0) {
        for (const r of runs.filter((x) => x.status === 'running')) {
          const key = `${r.id}:${r.attempts}:${r.leaseOwner}`;
          if (waitedFor.has(key)) continue;
          waitedFor.add(key);
          const left = r.leaseExpiresAt === null ? null : Math.max(0, Math.round((r.leaseExpiresAt - Date.now()) / 1000));
          opts.onWait?.(r, `no worker is left and run ${r.id} is held by ${r.leaseOwner ?? '?'}${left === null ? '' : ` (its lease runs out in ${left} s)`}: waiting for it to finish or for its lease to run out, then it is re-queued and workers are started for it`);
        }
        continue;
      }
      if (restarts <= 0) {
        gaveUp = `no worker is left and workers started again ${maxRestarts} time(s) finished no run; run(s) ${queued.map((r) => r.id).join(', ')} stay queued (see the workers' logs)`;
        break;
      }
      restarts--;
      await pool.start(Math.min(opts.workers, queued.length));
    }
  } finally {
    opts.signal?.removeEventListener('abort', stopAll);
    process.off('SIGINT', stopAll);
    process.off('SIGTERM', stopAll);
    await pool.settle();
  }
  const runs = await read(runIds);
  return {
    completed: runs.filter((r) => r.status === 'completed').map((r) => r.id),
    failed: runs.filter((r) => r.status === 'failed' || r.status === 'cancelled'),
    interrupted: stopping,
    gaveUp,
  };
}
