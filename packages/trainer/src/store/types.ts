// The run store's entities: what every store implementation (the SQLite RunStore today, an HTTP client of
// the tracking server later) reads and writes. Pure types and constants: no SQL, no node imports, so the
// dashboard's browser app can import them as types. Times are ms since the epoch; run ids are integers.
// Numbers: the store API returns NaN where a value is NaN (SQLite stores it as NULL); JSON on the wire
// turns NaN into null, so HTTP-side types say `number | null`.

import { DEFAULT_METRICS } from '../tables/metrics.ts';

export const RUN_KINDS = ['train', 'pretrain', 'evaluate', 'sweep', 'noop'] as const;
export type RunKind = (typeof RUN_KINDS)[number];
/** Kinds a user queues (a sweep is created by launching a grid, never directly). */
export const LAUNCHABLE_KINDS = ['train', 'evaluate', 'pretrain', 'noop'] as const satisfies readonly RunKind[];
export type LaunchableKind = (typeof LAUNCHABLE_KINDS)[number];
export const RUN_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
/** A registered method's name (the methods registry, config key `method`). */
export type RunMethod = string;
export const TERMINAL_STATUSES: readonly RunStatus[] = ['completed', 'failed', 'cancelled'];

export interface RunRecord {
  id: number;
  experimentId: number;
  experimentName: string;
  parentRunId: number | null;
  name: string;
  kind: RunKind;
  method: RunMethod | null;
  status: RunStatus;
  config: unknown;
  seed: number;
  engine: string | null;
  codeVersion: string | null;
  initFrom: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  heartbeatAt: number | null;
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
  attempts: number;
  maxAttempts: number;
  step: number;
  totalSteps: number | null;
  error: string | null;
  /** Archived when not null. */
  deletedAt: number | null;
  /** A user asked to cancel this running run; its worker checkpoints, stops and marks it cancelled. */
  cancelRequestedAt: number | null;
  /** Claims ever made (never reset): the "attempt" a remote worker stamps on every write. */
  leaseEpoch: number;
  /** What executes (or last executed) the run: 'local', 'slurm', 'k8s'; null before any launcher. */
  launcher: string | null;
  /** The launcher's job: the Slurm (array) job id, the Kubernetes Job name. */
  launcherJob: string | null;
  /** The task inside the job: the Slurm array task id, the Kubernetes completion index. */
  launcherTask: string | null;
}

/** What a worker runs inside, recorded on the run it claims (`ssmb runs`, the dashboard, cancel -> scancel). */
export interface ExecutorInfo {
  launcher: string;
  job: string | null;
  task: string | null;
}

export interface NewRun {
  experiment: string;
  kind: RunKind;
  method?: RunMethod | null;
  config: unknown;
  seed: number;
  name?: string;
  parentRunId?: number | null;
  initFrom?: string | null;
  maxAttempts?: number;
  totalSteps?: number | null;
  status?: RunStatus;
}

export interface ExperimentRecord {
  id: number;
  name: string;
  description: string;
  createdAt: number;
  /** Runs not archived. */
  runCount: number;
  archivedCount: number;
}

export interface MetricPoint {
  key: string;
  step: number;
  value: number;
  time?: number;
}

/** The last point of one per-step history, with its point count and extremes (NaN points excluded). */
export interface LatestMetric {
  key: string;
  step: number;
  value: number;
  time: number;
  /** Non-NaN points in the history. */
  points: number;
  /** NaN when the history has no non-NaN point. */
  min: number;
  max: number;
}

export interface MetricSeries {
  steps: number[];
  values: number[];
  /** Non-NaN points the store holds for this series (before downsampling). */
  total: number;
  /** NaN points it holds besides (never drawn: a chart says how many). */
  nan: number;
}

/** Mean of one run's history per step bucket (the grouped-curves view averages these over runs). */
export interface BucketMeans {
  runId: number;
  /** Bucket index -> mean value of the bucket's non-NaN points. */
  means: Map<number, number>;
}

export interface MetricPointRow {
  rowid: number;
  runId: number;
  key: string;
  step: number;
  value: number;
}

export interface EvalMetricValue {
  value: number;
  /** Comparisons behind the value (impostors for TAR@FAR, probes for Rank-k), when meaningful. */
  count?: number | null;
}

export interface Curve {
  x: number[];
  y: number[];
  thr?: number[];
}

export interface RoutingCount {
  block: string;
  modality: string;
  expert: number;
  count: number;
}

/**
 * Genuine and impostor score counts of one fold on fixed bins: equal-width bins over [lo, hi] (the last one
 * includes hi); `outside` counts the scores past the range or NaN, so nothing is dropped.
 */
export interface ScoreHistogram {
  lo: number;
  hi: number;
  genuine: number[];
  impostor: number[];
  outside: { genuine: number; impostor: number };
}

export type EmbeddingRole = 'gallery' | 'probe';

/** A bounded sample of one fold's gallery and probe embeddings (whole identities), for the 2-D projection. */
export interface EmbeddingSample {
  dim: number;
  /** The fold's images per role and its identities: what the sample was drawn from. */
  total: { gallery: number; probe: number; subjects: number };
  /** One per sampled image, in the order of `vectors`' rows. */
  points: Array<{ role: EmbeddingRole; subject: string; modality: string }>;
  /** points.length x dim values, row-major (stored at float32 precision). */
  vectors: number[];
}

export interface EvaluationRecord {
  protocol: string;
  fold: string;
  metrics: Record<string, EvalMetricValue>;
  curves?: { roc?: Curve; cmc?: Curve };
  routing?: RoutingCount[];
  scores?: ScoreHistogram;
  embeddings?: EmbeddingSample;
}

export interface ScoreHistogramRecord extends ScoreHistogram {
  protocol: string;
  fold: string;
}

/** What an embedding sample holds, without its vectors (the run page lists these first). */
export interface EmbeddingSampleInfo {
  protocol: string;
  fold: string;
  dim: number;
  total: EmbeddingSample['total'];
  sampled: { gallery: number; probe: number; subjects: number };
}

export interface EmbeddingSampleRecord extends EmbeddingSample {
  protocol: string;
  fold: string;
}

export interface EvalRow {
  runId: number;
  protocol: string;
  fold: string;
  metric: string;
  value: number;
  count: number | null;
}

export interface CurveRecord {
  runId: number;
  protocol: string;
  fold: string;
  kind: 'roc' | 'cmc';
  curve: Curve;
}

export interface RoutingRow extends RoutingCount {
  protocol: string;
  fold: string;
}

export interface CheckpointRecord {
  id: number;
  runId: number;
  step: number;
  /** Absolute path (resolved against the store's folder; '' when the run kind keeps no file). */
  path: string;
  createdAt: number;
}

export interface ArtifactRecord {
  id: number;
  runId: number;
  kind: string;
  /** Absolute path (resolved against the store's folder). */
  path: string;
  createdAt: number;
}

/** A run's checkpoints and artifacts in one list (the dashboard's Files panel). */
export interface FileRecord {
  runId: number;
  kind: string;
  /** Absolute path on this machine. */
  path: string;
  /** As stored: relative to the store's folder when inside it (a copied store still finds it), else absolute. */
  storedPath: string;
  step: number | null;
  createdAt: number;
}

/**
 * Run columns derived from config_json for the runs list: each names the config keys tried in order;
 * the first one that applies to the run (`CONFIG_KEY_SCOPES` in config.ts) gives the value, so a frozen
 * baseline shows no N and a pre-training run shows its own protocol and no fold.
 */
export const RUN_CONFIG_COLUMNS = {
  backbone: ['backbone.model'],
  numExperts: ['ssmb.numExperts'],
  protocol: ['dataset.protocol', 'pretrain.protocol'],
  fold: ['dataset.fold'],
} as const satisfies Record<string, readonly string[]>;
export type RunConfigColumn = keyof typeof RUN_CONFIG_COLUMNS;

/** Evaluation metrics averaged over folds in the runs list (the paper tables' defaults). */
export const RUN_LIST_METRICS = DEFAULT_METRICS;

export const RUN_SORT_KEYS = [
  'id', 'name', 'status', 'created_at', 'started_at', 'finished_at', 'experiment', 'step',
  'backbone', 'numExperts', 'protocol', 'fold', ...RUN_LIST_METRICS,
] as const;
export type RunSortKey = (typeof RUN_SORT_KEYS)[number];

/** Which runs a list reads. Shared by `listRuns` (records) and `queryRuns` (summaries, with a total). */
export interface RunFilter {
  ids?: number[];
  status?: RunStatus | RunStatus[];
  /** Experiment by name or id. */
  experiment?: string;
  experimentId?: number;
  parentRunId?: number;
  kind?: RunKind;
  /** Runs a launcher job executes (e.g. a Slurm array job id). */
  launcherJob?: string;
  /** Archived runs: left out (default), included, or the only ones listed. */
  archived?: 'exclude' | 'include' | 'only';
  /** Substring of run name, experiment name, id, status, method or a derived config column. */
  search?: string;
  /** Runs carrying this tag key (any value), or key=value. */
  tag?: string;
  sort?: RunSortKey;
  order?: 'asc' | 'desc';
  /** Default: no limit for listRuns, 100 for queryRuns (at most 5000). */
  limit?: number;
  offset?: number;
}

export interface RunQuery extends RunFilter {
  /** Per-step keys whose last/min/max each summary carries in `latest` (default ['loss']). */
  latestKeys?: string[];
}

export interface RunSummary extends Omit<RunRecord, 'config'> {
  archived: boolean;
  /** Running, but its lease expired: the worker died or hangs (the next claim re-queues it). */
  stale: boolean;
  backbone: string | null;
  numExperts: number | null;
  protocol: string | null;
  fold: string | null;
  tags: Record<string, string>;
  /** Mean over the run's evaluated folds (all protocols) of each RUN_LIST_METRICS key; null = not evaluated. */
  metrics: Record<string, number | null>;
  /** The requested per-step keys the run has logged. */
  latest: Record<string, LatestMetric>;
}

/**
 * One run as grouping and structured filters read it (RunStore.scanRuns): the fields a filter or a group
 * row names, its fold-mean list metrics and tags (when asked for), and its configuration as an index into
 * RunScan.configs.
 */
export interface RunScanRow extends Pick<RunSummary, 'id' | 'experimentName' | 'name' | 'kind' | 'method' | 'status' | 'createdAt' | 'archived' | 'backbone' | 'numExperts' | 'protocol' | 'fold' | 'metrics' | 'tags'> {
  /** Index in RunScan.configs of the run's config without the `apart` keys. */
  config: number;
  /** The run's values of the `apart` keys (null: absent), e.g. { 'dataset.fold': '2', seed: 0 }. */
  apart: Record<string, unknown>;
}

/**
 * Every run a filter selects, compactly: each distinct configuration once (without the keys that tell
 * runs of one group apart, such as fold and seed), so 20,000 runs of a few hundred configurations parse a
 * few hundred configs, not 20,000.
 */
export interface RunScan {
  configs: unknown[];
  runs: RunScanRow[];
}

export interface RunState {
  id: number;
  status: RunStatus;
  step: number;
  archived: boolean;
  /** Claims so far; a resumed run (new attempt) may have rewritten its metrics after the checkpoint. */
  attempts: number;
  cancelRequested: boolean;
}

/** Which runs an ablation or a table reads. */
export interface EvalScope {
  experimentId?: number;
  runIds?: number[];
  method?: RunMethod;
  includeArchived?: boolean;
}

export interface AblationPoint {
  protocol: string;
  /** The config value (JSON scalar) the runs share; null = key absent. */
  x: string | number | boolean | null;
  /** With a second key (`by`): that key's value, one series per value (null = key absent). */
  series?: string | number | boolean | null;
  mean: number;
  /** Sample std over the values; NaN when n < 2 (one value has no spread to report). */
  std: number;
  /** Number of (run, fold) values behind mean and std. */
  n: number;
  runIds: number[];
}

export interface EvalByKeyRow {
  runId: number;
  x: string | number | boolean | null;
  /** Whether the key applies to this run (`configKeyApplies`): rows where it does not are labelled by method. */
  applies: boolean;
  kind: RunKind;
  method: RunMethod | null;
  protocol: string;
  fold: string;
  metric: string;
  value: number;
}
