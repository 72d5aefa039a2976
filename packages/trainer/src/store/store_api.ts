// The run store's read/write interface. The SQLite store (run_store.ts) implements it with synchronous
// methods; an HTTP client of the tracking server can implement the same interface with promises
// (`Awaitable`), so code written against `RunStoreApi` awaits every call and runs on either. Grouped by
// who calls: readers (dashboard, CLI, tables), users' writes (launch, tags, archive, cancel) and the
// worker's writes (lease, metrics, evaluations, files). Transactions, migrations and `close` belong to
// an implementation, not to this interface.
import type {
  ArtifactRecord, AblationPoint, BucketMeans, CheckpointRecord, CurveRecord, EvalByKeyRow, EvalRow, EvalScope,
  EvaluationRecord, ExecutorInfo, ExperimentRecord, FileRecord, LatestMetric, MetricPoint, MetricPointRow, MetricSeries, NewRun,
  RoutingRow, RunFilter, RunQuery, RunRecord, RunScan, RunState, RunSummary, ScoreHistogramRecord, EmbeddingSampleInfo, EmbeddingSampleRecord,
} from './types.ts';

export type Awaitable<T> = T | Promise<T>;

export interface RunReader {
  /** Where the store lives: its SQLite file, or the server URL. */
  readonly location: string;

  getRun(id: number): Awaitable<RunRecord | undefined>;
  /** Like getRun; a missing run is a StoreError naming the store and how to list runs. */
  requireRun(id: number): Awaitable<RunRecord>;
  /** Runs newest first (no limit unless given). */
  listRuns(filter?: RunFilter): Awaitable<RunRecord[]>;
  /** One page of run summaries (derived config columns, tags, fold-mean metrics) and the filter's total. */
  queryRuns(query?: RunQuery): Awaitable<{ runs: RunSummary[]; total: number }>;
  /**
   * Every run the filter selects (sort and paging ignored) as compact rows, each distinct configuration
   * once: the `apart` config keys (fold, seed, output folders: what tells runs of a group apart) are
   * taken out of the shared configuration and given per run. What grouping and structured filters read.
   * Tags only with `tags: true` (a filter on a tag needs them; grouping does not).
   */
  scanRuns(filter: RunFilter, apart: readonly string[], opts?: { tags?: boolean }): Awaitable<RunScan>;
  runStates(ids: number[]): Awaitable<RunState[]>;
  /** Runs queued or running, plus any finished at or after `since` (ms). */
  liveRunStates(since: number): Awaitable<RunState[]>;
  listExperiments(): Awaitable<ExperimentRecord[]>;
  getParams(runId: number): Awaitable<Record<string, string>>;
  getTags(runId: number): Awaitable<Record<string, string>>;
  /** Has a user asked to cancel this run? (The worker's shouldStop reads it.) */
  cancelRequested(runId: number): Awaitable<boolean>;

  /** Last point, point count and extremes of every per-step key the run logged, by key. */
  getLatestMetrics(runId: number): Awaitable<Record<string, LatestMetric>>;
  metricKeys(runId: number): Awaitable<string[]>;
  getMetricHistory(runId: number, key: string, range?: { minStep?: number; maxStep?: number }): Awaitable<{ step: number; value: number; time: number }[]>;
  /**
   * One history in step order, downsampled to at most `maxPoints` points: the step range is cut into
   * floor(maxPoints / 4) buckets, each keeping its first, last, minimum and maximum point (ties: the
   * earliest step), so spikes and the curve's ends survive. NaN points are left out of steps/values.
   */
  metricSeries(runId: number, key: string, maxPoints: number): Awaitable<MetricSeries>;
  /** Per run, the mean of `key` in each of `buckets` equal step ranges over [lo, hi]. */
  metricBucketMeans(runIds: number[], key: string, range: { lo: number; hi: number; buckets: number }): Awaitable<BucketMeans[]>;
  /** Step range [lo, hi] of `key` over these runs (null when none logged it). */
  metricStepRange(runIds: number[], key: string): Awaitable<{ lo: number; hi: number } | null>;

  getEvalMetrics(runId: number): Awaitable<Omit<EvalRow, 'runId'>[]>;
  listEvalMetrics(runIds: number[]): Awaitable<EvalRow[]>;
  getCurves(runId: number, kind?: 'roc' | 'cmc'): Awaitable<CurveRecord[]>;
  getRouting(runId: number): Awaitable<RoutingRow[]>;
  /** Per evaluated fold, its genuine and impostor score histograms. */
  getScoreHistograms(runId: number): Awaitable<ScoreHistogramRecord[]>;
  /** Per evaluated fold, what its embedding sample holds (no vectors). */
  listEmbeddingSamples(runId: number): Awaitable<EmbeddingSampleInfo[]>;
  getEmbeddingSample(runId: number, protocol: string, fold: string): Awaitable<EmbeddingSampleRecord | undefined>;
  /** Metric names present in any evaluation. */
  evalMetricNames(): Awaitable<string[]>;
  /** Dotted config keys seen in the newest runs' configs. */
  configKeys(sample?: number): Awaitable<string[]>;
  /** Mean +- sample std of `metric` over (run, fold) values per protocol and value of config `key`,
   *  over the runs in scope for which the key applies; with `by`, one series per value of that second key. */
  ablation(q: EvalScope & { metric: string; key: string; by?: string }): Awaitable<AblationPoint[]>;
  /** Per-fold values of `metrics` with each run's value of config `key` (and whether it applies). */
  evalByConfigKey(q: EvalScope & { metrics: string[]; key: string }): Awaitable<EvalByKeyRow[]>;

  listCheckpoints(runId: number): Awaitable<CheckpointRecord[]>;
  latestCheckpoint(runId: number): Awaitable<CheckpointRecord | undefined>;
  listArtifacts(runId: number): Awaitable<ArtifactRecord[]>;
  /** Checkpoints and artifacts of a run, oldest first. */
  listFiles(runId: number): Awaitable<FileRecord[]>;

  /** Changes whenever anything is written to the store (a cache key for responses). */
  dataVersion(): Awaitable<string>;
  /** Change feed (server-sent events): newest run id, newest metric row, points after a row. */
  maxRunId(): Awaitable<number>;
  maxMetricRowid(): Awaitable<number>;
  metricPointsSince(rowid: number, limit: number): Awaitable<MetricPointRow[]>;
}

export interface RunWriter {
  createRun(run: NewRun): Awaitable<number>;
  /** One parent run (kind 'sweep', never claimed) and its queued children, together. */
  createSweep(parent: Omit<NewRun, 'kind'>, children: Omit<NewRun, 'parentRunId' | 'experiment'>[]): Awaitable<{ parentId: number; childIds: number[] }>;
  /** Write-once: re-logging the same value is fine, a different value is an error. */
  logParams(runId: number, params: Record<string, string | number | boolean>): Awaitable<void>;
  setTag(runId: number, key: string, value: string): Awaitable<void>;
  /** The same tag on several runs at once (all or none). */
  setTags(runIds: number[], key: string, value: string): Awaitable<void>;
  deleteTag(runId: number, key: string): Awaitable<void>;
  /** Archive (or restore) runs; a sweep's children follow their parent. */
  archiveRuns(runIds: number[], archived: boolean): Awaitable<void>;
  /**
   * A user's cancel: a queued run (or one whose lease expired) is cancelled at once; a running run is
   * flagged, and its worker checkpoints, stops and marks it cancelled.
   */
  requestCancel(runId: number): Awaitable<'cancelled' | 'requested'>;
  /** Cancel now (sweep: with its unfinished children); with `owner`, only while that worker holds it. */
  cancelRun(runId: number, owner?: string): Awaitable<void>;
  /** A failed or cancelled run back in the queue with a fresh attempt budget. */
  requeueRun(runId: number): Awaitable<void>;
}

export interface WorkerStore {
  /**
   * Atomically claim the oldest queued run (or `runId`) for `owner` until now + leaseMs; `executor`
   * (Slurm job and task, ...) is recorded on the run.
   */
  claimRun(owner: string, leaseMs: number, opts?: { kinds?: readonly string[]; runId?: number; executor?: ExecutorInfo }): Awaitable<RunRecord | undefined>;
  /** Extend the lease; false when this owner no longer holds the run (it must stop). */
  heartbeat(runId: number, owner: string, leaseMs: number, step?: number): Awaitable<boolean>;
  /** Give a claimed run back to the queue (graceful shutdown); the attempt is not counted. */
  releaseRun(runId: number, owner: string): Awaitable<boolean>;
  completeRun(runId: number, owner?: string): Awaitable<void>;
  failRun(runId: number, error: string, owner?: string): Awaitable<void>;
  /** Re-queue running runs whose lease expired (or fail them past max attempts, cancel them if asked). */
  requeueExpired(now?: number): Awaitable<{ requeued: number[]; failed: number[]; cancelled: number[] }>;
  setRunEnvironment(runId: number, env: { engine?: string; codeVersion?: string; totalSteps?: number }): Awaitable<void>;
  setProgress(runId: number, step: number): Awaitable<void>;
  logMetrics(runId: number, points: MetricPoint[]): Awaitable<void>;
  /** Drop history after `step` (a resumed run re-logs the steps after its checkpoint). */
  truncateMetricsAfter(runId: number, step: number): Awaitable<void>;
  /** One fold's evaluation (metrics, curves, routing), replacing an earlier one of the same fold. */
  recordEvaluation(runId: number, ev: EvaluationRecord): Awaitable<void>;
  /** Paths inside the store's folder are stored relative to it. */
  addCheckpoint(runId: number, step: number, path: string): Awaitable<void>;
  /** Forgets checkpoint rows (retention deletes the files of this machine after; the server its own). */
  removeCheckpoints(runId: number, steps: number[]): Awaitable<void>;
  /** Files runs start from (`--init-from`): retention never deletes them. */
  initFromPaths(): Awaitable<string[]>;
  addArtifact(runId: number, kind: string, path: string): Awaitable<void>;
}

export interface RunStoreApi extends RunReader, RunWriter, WorkerStore {}

/**
 * What the worker loop and the run executors (train, evaluate, pretrain, noop) use: the worker's writes
 * plus the reads a resumed run needs. Two implementations: the SQLite RunStore (workers on the store's
 * machine) and HttpStore (remote workers: writes go through the tracking server's worker API,
 * buffered on local disk while it does not answer).
 */
export interface WorkerStoreApi
  extends WorkerStore,
    Pick<RunReader, 'location' | 'getRun' | 'requireRun' | 'cancelRequested' | 'latestCheckpoint' | 'listCheckpoints' | 'getEvalMetrics' | 'metricKeys' | 'getMetricHistory' | 'getTags'>,
    Pick<RunWriter, 'setTag' | 'cancelRun'> {
  /** Folder a run writes its files under (run-<id>/...) when its config names no outputDir. */
  readonly runFilesDir: string;
  /** Whether a worker on this store re-queues the runs of dead workers itself (a store on this machine:
   *  every live worker does it) or leaves that to the tracking server, which does it for all of its remote
   *  workers (one request per heartbeat and worker would only load it). */
  readonly workersReapStaleRuns: boolean;
}
