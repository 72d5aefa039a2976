// Entity mappers: one function per row type turns a SQLite row into the store's entity (types.ts), and
// the value codecs they share. Used only by run_store.ts (the one module that speaks SQL) and the
// migrations' data steps.
import path from 'node:path';
import type {
  ArtifactRecord, CheckpointRecord, CurveRecord, EvalRow, ExperimentRecord, FileRecord, LatestMetric, RoutingRow,
  RunRecord, RunScanRow, RunState, RunSummary,
} from './types.ts';
import { RUN_LIST_METRICS } from './types.ts';

export type Row = Record<string, any>;

/** SQLite has no NaN: NULL in a REAL value column encodes NaN; +-Infinity are native REALs. */
export function encodeReal(v: number): number | null {
  return Number.isNaN(v) ? null : v;
}
export function decodeReal(v: number | null | undefined): number {
  return v === null || v === undefined ? Number.NaN : v;
}

// JSON has no NaN/Infinity: curve arrays spell them as strings.
export function encodeArray(a: number[]): string {
  return JSON.stringify(a.map((v) => (Number.isFinite(v) ? v : String(v))));
}
export function decodeArray(s: string): number[] {
  return (JSON.parse(s) as (number | string)[]).map((v) => (typeof v === 'number' ? v : Number(v)));
}

/** A path as stored: relative to the store's folder when it lies inside it, else absolute ('' stays ''). */
export function toStoredPath(p: string, storeDir: string): string {
  if (p === '') return '';
  const abs = path.resolve(p);
  const rel = path.relative(storeDir, abs);
  if (rel === '') return '.';
  return rel.startsWith('..') || path.isAbsolute(rel) ? abs : rel;
}

/** The absolute path of a stored one (relative paths are relative to the store's folder). */
export function fromStoredPath(stored: string, storeDir: string): string {
  return stored === '' ? '' : path.resolve(storeDir, stored);
}

/**
 * The run columns every run query selects (everything but config_json, which only full records parse),
 * with the experiment's name.
 */
export const RUN_COLUMNS = `r.id, r.experiment_id, e.name AS experiment_name, r.parent_run_id, r.name, r.kind, r.method, r.status,
  r.seed, r.engine, r.code_version, r.init_from, r.created_at, r.started_at, r.finished_at, r.heartbeat_at, r.lease_owner,
  r.lease_expires_at, r.attempts, r.max_attempts, r.step, r.total_steps, r.error, r.deleted_at, r.cancel_requested_at, r.lease_epoch,
  r.launcher, r.launcher_job, r.launcher_task`;
export const RUN_FROM = 'FROM runs r JOIN experiments e ON e.id = r.experiment_id';

/** runs row (RUN_COLUMNS) -> the record without its config. */
function runColumns(row: Row): Omit<RunRecord, 'config'> {
  return {
    id: row.id,
    experimentId: row.experiment_id,
    experimentName: row.experiment_name,
    parentRunId: row.parent_run_id ?? null,
    name: row.name,
    kind: row.kind,
    method: row.method ?? null,
    status: row.status,
    seed: row.seed,
    engine: row.engine ?? null,
    codeVersion: row.code_version ?? null,
    initFrom: row.init_from ?? null,
    createdAt: row.created_at,
    startedAt: row.started_at ?? null,
    finishedAt: row.finished_at ?? null,
    heartbeatAt: row.heartbeat_at ?? null,
    leaseOwner: row.lease_owner ?? null,
    leaseExpiresAt: row.lease_expires_at ?? null,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    step: row.step,
    totalSteps: row.total_steps ?? null,
    error: row.error ?? null,
    deletedAt: row.deleted_at ?? null,
    cancelRequestedAt: row.cancel_requested_at ?? null,
    leaseEpoch: row.lease_epoch ?? 0,
    launcher: row.launcher ?? null,
    launcherJob: row.launcher_job ?? null,
    launcherTask: row.launcher_task ?? null,
  };
}

/** runs row (RUN_COLUMNS + config_json) -> RunRecord. */
export function toRun(row: Row): RunRecord {
  return { ...runColumns(row), config: JSON.parse(row.config_json) };
}

/** runs row (RUN_COLUMNS + derived d_* columns) -> RunSummary (tags, metrics and latest filled by the caller). */
export function toRunSummary(row: Row, now: number): RunSummary {
  // One object literal (not a spread of runColumns): the runs list maps hundreds of rows per request.
  const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
  const ne = row.d_numExperts;
  const leaseExpiresAt = row.lease_expires_at ?? null;
  const metrics: Record<string, number | null> = {};
  for (const m of RUN_LIST_METRICS) metrics[m] = null;
  return {
    id: row.id,
    experimentId: row.experiment_id,
    experimentName: row.experiment_name,
    parentRunId: row.parent_run_id ?? null,
    name: row.name,
    kind: row.kind,
    method: row.method ?? null,
    status: row.status,
    seed: row.seed,
    engine: row.engine ?? null,
    codeVersion: row.code_version ?? null,
    initFrom: row.init_from ?? null,
    createdAt: row.created_at,
    startedAt: row.started_at ?? null,
    finishedAt: row.finished_at ?? null,
    heartbeatAt: row.heartbeat_at ?? null,
    leaseOwner: row.lease_owner ?? null,
    leaseExpiresAt,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    step: row.step,
    totalSteps: row.total_steps ?? null,
    error: row.error ?? null,
    deletedAt: row.deleted_at ?? null,
    cancelRequestedAt: row.cancel_requested_at ?? null,
    leaseEpoch: row.lease_epoch ?? 0,
    launcher: row.launcher ?? null,
    launcherJob: row.launcher_job ?? null,
    launcherTask: row.launcher_task ?? null,
    archived: row.deleted_at !== null && row.deleted_at !== undefined,
    stale: row.status === 'running' && leaseExpiresAt !== null && leaseExpiresAt < now,
    backbone: text(row.d_backbone),
    numExperts: ne === null || ne === undefined ? null : Number(ne),
    protocol: text(row.d_protocol),
    fold: text(row.d_fold),
    tags: {},
    metrics,
    latest: {},
  };
}

/** The run columns a scan row reads (RunStore.scanRuns adds the derived d_* columns, `cfg` and `apart`). */
export const SCAN_COLUMNS = 'r.id, e.name AS experiment_name, r.name, r.kind, r.method, r.status, r.created_at, r.deleted_at';

/** Scan row (SCAN_COLUMNS, d_* columns, cfg, apart) -> RunScanRow; metrics and tags are filled after. */
export function toScanRow(row: Row): RunScanRow {
  const ne = row.d_numExperts;
  const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
  const metrics: Record<string, number | null> = {};
  for (const m of RUN_LIST_METRICS) metrics[m] = null;
  return {
    id: row.id,
    experimentName: row.experiment_name,
    name: row.name,
    kind: row.kind,
    method: row.method ?? null,
    status: row.status,
    createdAt: row.created_at,
    archived: row.deleted_at !== null && row.deleted_at !== undefined,
    backbone: text(row.d_backbone),
    numExperts: ne === null || ne === undefined ? null : Number(ne),
    protocol: text(row.d_protocol),
    fold: text(row.d_fold),
    metrics,
    tags: {},
    config: row.cfg,
    apart: row.apart,
  };
}

export function toRunState(row: Row): RunState {
  return {
    id: row.id,
    status: row.status,
    step: row.step,
    archived: row.deleted_at != null,
    attempts: row.attempts,
    cancelRequested: row.cancel_requested_at != null,
  };
}

export function toExperiment(row: Row): ExperimentRecord {
  return { id: row.id, name: row.name, description: row.description, createdAt: row.created_at, runCount: row.run_count, archivedCount: row.archived_count };
}

export function toLatestMetric(row: Row): LatestMetric {
  return {
    key: row.key,
    step: row.step,
    value: decodeReal(row.value),
    time: row.time,
    points: row.points,
    min: decodeReal(row.min_value),
    max: decodeReal(row.max_value),
  };
}

export function toEvalRow(row: Row): EvalRow {
  return { runId: row.run_id, protocol: row.protocol, fold: row.fold, metric: row.metric, value: decodeReal(row.value), count: row.count ?? null };
}

export function toCurve(row: Row): CurveRecord {
  return {
    runId: row.run_id,
    protocol: row.protocol,
    fold: row.fold,
    kind: row.kind,
    curve: { x: decodeArray(row.x_json), y: decodeArray(row.y_json), ...(row.thr_json ? { thr: decodeArray(row.thr_json) } : {}) },
  };
}

export function toRouting(row: Row): RoutingRow {
  return { protocol: row.protocol, fold: row.fold, block: row.block, modality: row.modality, expert: row.expert, count: row.count };
}

export function toCheckpoint(row: Row, storeDir: string): CheckpointRecord {
  return { id: row.id, runId: row.run_id, step: row.step, path: fromStoredPath(row.path, storeDir), createdAt: row.created_at };
}

export function toArtifact(row: Row, storeDir: string): ArtifactRecord {
  return { id: row.id, runId: row.run_id, kind: row.kind, path: fromStoredPath(row.path, storeDir), createdAt: row.created_at };
}

export function toFile(row: Row, storeDir: string): FileRecord {
  return { runId: row.run_id, kind: row.kind, path: fromStoredPath(row.path, storeDir), storedPath: row.path, step: row.step ?? null, createdAt: row.created_at };
}
