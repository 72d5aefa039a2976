// RunStore: the SQLite implementation of the run store (store_api.ts) and the only module that speaks
// SQL. better-sqlite3 in WAL mode; every multi-row write is one transaction. Rows become entities through
// the mappers of entities.ts (one per row type); each query is written once, here. The connection is
// private: the dashboard, the CLI and the worker use these methods.
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { configKeyApplies, configKeyScope } from '../config.ts';
import { configKeysOf } from '../flatten.ts';
import { meanStd } from '../tables/build.ts';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.ts';
import { explainOpenError } from './open_errors.ts';
import type { RunStoreApi } from './store_api.ts';
import { metricPoints, TERMINAL_OPS, type LeaseRef, type SequencedOp, type WriteResult } from './worker_ops.ts';
import {
  RUN_COLUMNS, RUN_FROM, decodeReal, encodeArray, encodeReal, toArtifact, toCheckpoint, toCurve, toEvalRow, toExperiment, toFile,
  SCAN_COLUMNS, toLatestMetric, toRouting, toRun, toRunState, toRunSummary, toScanRow, toStoredPath, type Row,
} from './entities.ts';
import {
  checkEmbeddingSample, checkScoreHistogram, encodePoints, encodeVectors, toEmbeddingSample, toEmbeddingSampleInfo, toScoreHistogram,
} from './eval_samples.ts';
import {
  LAUNCHABLE_KINDS, RUN_CONFIG_COLUMNS, RUN_LIST_METRICS, RUN_SORT_KEYS, TERMINAL_STATUSES,
  type AblationPoint, type ArtifactRecord, type BucketMeans, type CheckpointRecord, type CurveRecord, type EvalByKeyRow, type EvalRow,
  type EvalScope, type EvaluationRecord, type ExecutorInfo, type ExperimentRecord, type FileRecord, type LatestMetric, type MetricPoint, type MetricPointRow,
  type MetricSeries, type NewRun, type RoutingRow, type RunConfigColumn, type RunFilter, type RunKind, type RunQuery, type RunRecord, type RunScan,
  type RunSortKey, type RunState, type RunStatus, type RunSummary, type ScoreHistogramRecord, type EmbeddingSampleInfo, type EmbeddingSampleRecord,
} from './types.ts';

export * from './types.ts';
export type { RunStoreApi, RunReader, RunWriter, WorkerStore, WorkerStoreApi, Awaitable } from './store_api.ts';
export { encodeReal, decodeReal } from './entities.ts';

export type StoreErrorCode =
  | 'STORE_SCHEMA_OLDER' | 'STORE_SCHEMA_NEWER' | 'STORE_NOT_A_STORE' | 'STORE_READONLY' | 'STORE_PARAM_CONFLICT' | 'STORE_NOT_FOUND' | 'STORE_BAD_STATE'
  /** A worker wrote to a run it no longer holds (its lease expired and was re-queued or taken over). */
  | 'STORE_LEASE_LOST';

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

/** Dotted config key (`ssmb.numExperts`) -> SQLite JSON path (`$.ssmb.numExperts`). */
export function configKeyPath(key: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(key)) {
    throw new Error(`config key "${key}" is not a dotted identifier like ssmb.numExperts`);
  }
  return `$.${key}`;
}

/** Literal for SQL built from our own constants (kinds, methods, metric names): never user input. */
function lit(v: string): string {
  if (!/^[A-Za-z0-9_./-]+$/.test(v)) throw new Error(`internal: ${JSON.stringify(v)} is not a safe SQL literal`);
  return `'${v}'`;
}

/** SQL for "config key `key` applies to run r" (CONFIG_KEY_SCOPES of config.ts). */
function appliesSql(key: string): string {
  const scope = configKeyScope(key);
  const clauses = [`r.kind <> 'sweep'`];
  if (scope?.kinds) clauses.push(`r.kind IN (${scope.kinds.map(lit).join(',')})`);
  if (scope?.methods) clauses.push(`r.method IN (${scope.methods.map(lit).join(',')})`);
  return `(${clauses.join(' AND ')})`;
}

/** A derived runs-list column: the first of its config keys that applies to the run. */
const DERIVED_SQL = Object.fromEntries(
  Object.entries(RUN_CONFIG_COLUMNS).map(([col, keys]) => [
    col,
    `CASE ${keys.map((k) => `WHEN ${appliesSql(k)} THEN json_extract(r.config_json, '${configKeyPath(k)}')`).join(' ')} END`,
  ]),
) as Record<RunConfigColumn, string>;
const DERIVED_SELECT = Object.entries(DERIVED_SQL).map(([col, sql]) => `${sql} AS d_${col}`).join(', ');

/** Per derived column, the config key that gives its value for a run of this kind and method (DERIVED_SQL's rule). */
const derivedKeys = (run: { kind: string; method: string | null }) =>
  Object.entries(RUN_CONFIG_COLUMNS).map(([col, keys]) => [col, keys.find((k) => configKeyApplies(k, run))] as const);
/** A config value as json_extract gives it: objects and arrays as their JSON text, a missing key as NULL. */
const sqlValue = (v: unknown) => (v === undefined ? null : v !== null && typeof v === 'object' ? JSON.stringify(v) : v);

/** Value at a dotted key of a parsed config (undefined when a step is missing). */
const atPath = (obj: unknown, key: string): unknown =>
  key.split('.').reduce<unknown>((cur, k) => (cur !== null && typeof cur === 'object' && !Array.isArray(cur) ? (cur as Record<string, unknown>)[k] : undefined), obj);

const SORT_SQL: Record<RunSortKey, string> = {
  id: 'r.id', name: 'r.name', status: 'r.status', created_at: 'r.created_at', started_at: 'r.started_at',
  finished_at: 'r.finished_at', experiment: 'e.name', step: 'r.step',
  ...DERIVED_SQL,
  ...(Object.fromEntries(
    RUN_LIST_METRICS.map((m) => [m, `(SELECT avg(em.value) FROM eval_metrics em WHERE em.run_id = r.id AND em.metric = ${lit(m)})`]),
  ) as Record<(typeof RUN_LIST_METRICS)[number], string>),
};

/** Sort keys whose column is never NULL (no NULLs-last term needed). */
const NOT_NULL_SORT_KEYS = new Set<RunSortKey>(['id', 'name', 'status', 'created_at', 'experiment', 'step']);

// Downsampling one metric history (metricSeries). Per step-range bucket ([s0, s1] pairs in @bounds): the
// rowids of its first and last points (index seeks) and of its minimum and maximum (one index range scan
// each; SQLite takes a bare column from the row holding min()/max(), the first in step order on ties).
// The covering index metrics(run_id, key, step, value) serves every read.
const IN_BUCKET = 'FROM metrics WHERE run_id = @run AND key = @key AND value IS NOT NULL AND step BETWEEN bk.s0 AND bk.s1';
const DOWNSAMPLE_SQL = `
WITH bk(s0, s1) AS (SELECT value ->> 0, value ->> 1 FROM json_each(@bounds)),
pick(id) AS (
  SELECT (SELECT rowid ${IN_BUCKET} ORDER BY step LIMIT 1) FROM bk
  UNION ALL SELECT (SELECT rowid ${IN_BUCKET} ORDER BY step DESC LIMIT 1) FROM bk
  UNION ALL SELECT (SELECT id FROM (SELECT rowid AS id, min(value) ${IN_BUCKET})) FROM bk
  UNION ALL SELECT (SELECT id FROM (SELECT rowid AS id, max(value) ${IN_BUCKET})) FROM bk)
SELECT DISTINCT m.step, m.value, m.rowid FROM pick JOIN metrics m ON m.rowid = pick.id ORDER BY m.step, m.rowid`;

/** Cuts the integer steps [lo, hi] into at most `buckets` contiguous, non-empty [s0, s1] ranges. */
export function stepBuckets(lo: number, hi: number, buckets: number): Array<[number, number]> {
  const span = hi - lo + 1;
  const n = Math.max(1, Math.min(buckets, span));
  return Array.from({ length: n }, (_, b) => [lo + Math.ceil((b * span) / n), lo + Math.ceil(((b + 1) * span) / n) - 1]);
}

// metrics_latest upsert: the latest point moves only forward in steps; `points` counts non-NaN points
// (NaN is NULL); the extremes ignore NaN. (SET expressions read the row as it was before the update.)
const LATEST_UPSERT = `INSERT INTO metrics_latest (run_id, key, step, value, time, points, min_value, max_value) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (run_id, key) DO UPDATE SET points = points + excluded.points,
    min_value = CASE WHEN excluded.min_value IS NULL THEN min_value WHEN min_value IS NULL OR excluded.min_value < min_value THEN excluded.min_value ELSE min_value END,
    max_value = CASE WHEN excluded.max_value IS NULL THEN max_value WHEN max_value IS NULL OR excluded.max_value > max_value THEN excluded.max_value ELSE max_value END,
    step = CASE WHEN excluded.step >= step THEN excluded.step ELSE step END,
    value = CASE WHEN excluded.step >= step THEN excluded.value ELSE value END,
    time = CASE WHEN excluded.step >= step THEN excluded.time ELSE time END`;
const LATEST_COLUMNS = 'run_id, key, step, value, time, points, min_value, max_value';

function readVersion(db: Database.Database): number | null {
  const has = db.prepare(`SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version'`).get();
  if (!has) return null;
  const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
  return row?.version ?? 0;
}

function applyMigrations(db: Database.Database, from: number, storeDir: string): void {
  db.transaction(() => {
    if (from === 0) db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    for (const m of MIGRATIONS) {
      if (m.version <= from) continue;
      db.exec(m.sql);
      m.data?.(db, { storeDir });
    }
    db.exec('DELETE FROM schema_version');
    db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(SCHEMA_VERSION);
  }).immediate();
}

function configure(db: Database.Database): void {
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 10000');
  db.pragma('synchronous = NORMAL');
  // A read-only file (or directory) may still open and read; find out now, not at the first write.
  db.prepare('BEGIN IMMEDIATE').run();
  db.prepare('ROLLBACK').run();
}

const storeDirOf = (file: string) => (file === ':memory:' ? process.cwd() : path.dirname(path.resolve(file)));

export interface OpenOptions {
  /** Open without writing (the dashboard, read commands); the store must exist. */
  readonly?: boolean;
  /** Refuse to create a missing store (commands that act on runs already in it). */
  mustExist?: boolean;
}

export class RunStore implements RunStoreApi {
  readonly #db: Database.Database;
  readonly file: string;
  /** The store's folder: relative checkpoint and artifact paths are relative to it. */
  readonly dir: string;
  #stmts = new Map<string, Database.Statement>();

  private constructor(db: Database.Database, file: string) {
    this.#db = db;
    this.file = file;
    this.dir = storeDirOf(file);
  }

  get location(): string {
    return this.file;
  }

  /** Runs write their files under <store folder>/artifacts/run-<id> unless their config names an outputDir. */
  /** Workers on the store's machine each re-queue the runs of dead workers (no server does it for them). */
  readonly workersReapStaleRuns = true;

  get runFilesDir(): string {
    return path.join(this.dir, 'artifacts');
  }

  /**
   * Opens (and, when new, creates) a store. A store written by another schema version is refused
   * with a message naming both versions and the command to run.
   */
  static open(file: string, opts: OpenOptions = {}): RunStore {
    try {
      return RunStore.openUnexplained(file, opts);
    } catch (err) {
      if (err instanceof StoreError) throw err;
      const { code, message } = explainOpenError(file, err, opts);
      throw Object.assign(new StoreError(code, message), { cause: err });
    }
  }

  private static openUnexplained(file: string, opts: OpenOptions): RunStore {
    const fresh = file === ':memory:' || !existsSync(file);
    if ((opts.readonly || opts.mustExist) && fresh && file !== ':memory:') throw new StoreError('STORE_NOT_FOUND', `run store ${file} does not exist; create it with \`ssmb launch --store ${file} ...\` (on a cluster: \`ssmb serve --store ${file}\`, the tracking server, creates it)`);
    const db = new Database(file, { readonly: !!opts.readonly });
    try {
      if (!opts.readonly) configure(db);
      else db.pragma('busy_timeout = 10000');
      let version = readVersion(db);
      if (version === null) {
        const tables = db.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE type='table'`).get() as { n: number };
        if (tables.n > 0) {
          throw new StoreError('STORE_NOT_A_STORE', `${file} is an SQLite file but not a run store (it has tables but no schema_version table); pass the run store the trainer writes (default .ssmb/runs.sqlite)`);
        }
        if (!opts.readonly) {
          applyMigrations(db, 0, storeDirOf(file));
          version = SCHEMA_VERSION;
        }
      }
      if (version !== SCHEMA_VERSION) {
        if ((version ?? 0) < SCHEMA_VERSION) {
          throw new StoreError(
            'STORE_SCHEMA_OLDER',
            `run store ${file} has schema version ${version ?? 0}, this code expects version ${SCHEMA_VERSION}; ` +
              `run \`ssmb store migrate --store ${file}\` to upgrade it`,
          );
        }
        throw new StoreError(
          'STORE_SCHEMA_NEWER',
          `run store ${file} has schema version ${version}, newer than version ${SCHEMA_VERSION} this code expects; ` +
            `update ssmb to a version that knows schema ${version} (\`ssmb store migrate --store ${file}\` cannot downgrade)`,
        );
      }
    } catch (err) {
      db.close();
      throw err;
    }
    return new RunStore(db, file);
  }

  /** Upgrades a store to the current schema; returns the versions before and after. */
  static migrate(file: string): { from: number; to: number } {
    try {
      return RunStore.migrateUnexplained(file);
    } catch (err) {
      if (err instanceof StoreError) throw err;
      const { code, message } = explainOpenError(file, err);
      throw Object.assign(new StoreError(code, message), { cause: err });
    }
  }

  private static migrateUnexplained(file: string): { from: number; to: number } {
    if (!existsSync(file)) throw new StoreError('STORE_NOT_FOUND', `run store ${file} does not exist`);
    const db = new Database(file);
    try {
      configure(db);
      const version = readVersion(db);
      if (version === null && (db.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE type='table'`).get() as { n: number }).n > 0) {
        throw new StoreError('STORE_NOT_A_STORE', `${file} is an SQLite file but not a run store (no schema_version table); nothing to migrate`);
      }
      const from = version ?? 0;
      if (from > SCHEMA_VERSION) {
        throw new StoreError('STORE_SCHEMA_NEWER', `run store ${file} has schema version ${from}, newer than ${SCHEMA_VERSION}; update ssmb`);
      }
      if (from < SCHEMA_VERSION) applyMigrations(db, from, storeDirOf(file));
      return { from, to: SCHEMA_VERSION };
    } finally {
      db.close();
    }
  }

  close(): void {
    this.#db.close();
  }

  private stmt(sql: string): Database.Statement {
    let s = this.#stmts.get(sql);
    if (!s) {
      s = this.#db.prepare(sql);
      this.#stmts.set(sql, s);
    }
    return s;
  }

  /** Runs fn in one IMMEDIATE transaction (takes the write lock up front: no upgrade deadlocks). */
  transaction<T>(fn: () => T): T {
    return this.#db.transaction(fn).immediate();
  }

  schemaVersion(): number {
    return readVersion(this.#db) ?? 0;
  }

  integrityCheck(): string {
    return (this.#db.pragma('integrity_check', { simple: true }) as string) ?? '';
  }

  /**
   * Changes whenever anything is written to the store: PRAGMA data_version counts other connections'
   * commits, total_changes() this connection's own writes.
   */
  dataVersion(): string {
    const [changes] = this.stmt('SELECT total_changes()').raw(true).get() as [number];
    return `${this.#db.pragma('data_version', { simple: true }) as number}.${changes}`;
  }

  // ---- experiments ----

  ensureExperiment(name: string, description = ''): number {
    if (!name.trim()) throw new StoreError('STORE_BAD_STATE', 'experiment name must be a non-empty string');
    const row = this.stmt('SELECT id FROM experiments WHERE name = ?').get(name) as { id: number } | undefined;
    if (row) return row.id;
    return Number(this.stmt('INSERT INTO experiments (name, description, created_at) VALUES (?, ?, ?)').run(name, description, Date.now()).lastInsertRowid);
  }

  listExperiments(): ExperimentRecord[] {
    return (
      this.stmt(
        `SELECT e.id, e.name, e.description, e.created_at,
           (SELECT count(*) FROM runs r WHERE r.experiment_id = e.id AND r.deleted_at IS NULL) AS run_count,
           (SELECT count(*) FROM runs r WHERE r.experiment_id = e.id AND r.deleted_at IS NOT NULL) AS archived_count
         FROM experiments e ORDER BY e.id`,
      ).all() as Row[]
    ).map(toExperiment);
  }

  // ---- runs: reads ----

  getRun(id: number): RunRecord | undefined {
    const row = this.stmt(`SELECT ${RUN_COLUMNS}, r.config_json ${RUN_FROM} WHERE r.id = ?`).get(id) as Row | undefined;
    return row ? toRun(row) : undefined;
  }

  requireRun(id: number): RunRecord {
    const run = this.getRun(id);
    if (!run) throw new StoreError('STORE_NOT_FOUND', `run ${id} does not exist in ${this.file}; list runs with \`ssmb runs list --store ${this.file}\``);
    return run;
  }

  runExists(id: number): boolean {
    return this.stmt('SELECT 1 FROM runs WHERE id = ?').get(id) !== undefined;
  }

  /** WHERE clause of a run filter (listRuns and queryRuns read the same runs). */
  private runWhere(f: RunFilter): { where: string; params: unknown[] } {
    const clauses: string[] = [];
    const params: unknown[] = [];
    const archived = f.archived ?? 'exclude';
    if (archived === 'only') clauses.push('r.deleted_at IS NOT NULL');
    else if (archived === 'exclude') clauses.push('r.deleted_at IS NULL');
    if (f.ids) {
      if (!f.ids.every((i) => Number.isSafeInteger(i))) throw new Error(`run ids must be integers, received ${f.ids.join(',')}`);
      clauses.push('r.id IN (SELECT value FROM json_each(?))');
      params.push(JSON.stringify(f.ids));
    }
    const statuses = f.status === undefined ? [] : Array.isArray(f.status) ? f.status : [f.status];
    if (statuses.length) {
      clauses.push(`r.status IN (${statuses.map(() => '?').join(',')})`);
      params.push(...statuses);
    }
    if (f.experiment !== undefined) (clauses.push('e.name = ?'), params.push(f.experiment));
    if (f.experimentId !== undefined) (clauses.push('r.experiment_id = ?'), params.push(f.experimentId));
    if (f.parentRunId !== undefined) (clauses.push('r.parent_run_id = ?'), params.push(f.parentRunId));
    if (f.kind !== undefined) (clauses.push('r.kind = ?'), params.push(f.kind));
    if (f.launcherJob !== undefined) (clauses.push('r.launcher_job = ?'), params.push(f.launcherJob));
    if (f.tag) {
      const eq = f.tag.indexOf('=');
      if (eq > 0) {
        clauses.push('EXISTS (SELECT 1 FROM tags t WHERE t.run_id = r.id AND t.key = ? AND t.value = ?)');
        params.push(f.tag.slice(0, eq), f.tag.slice(eq + 1));
      } else {
        clauses.push('EXISTS (SELECT 1 FROM tags t WHERE t.run_id = r.id AND t.key = ?)');
        params.push(f.tag);
      }
    }
    if (f.search) {
      const like = `%${f.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      const fields = ['r.name', 'e.name', 'CAST(r.id AS TEXT)', 'r.status', 'r.method', 'r.kind', ...Object.values(DERIVED_SQL)];
      clauses.push(`(${fields.map((x) => `${x} LIKE ? ESCAPE '\\'`).join(' OR ')})`);
      params.push(...fields.map(() => like));
    }
    return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
  }

  private orderBy(f: RunFilter): string {
    const key = f.sort ?? 'id';
    const sort = SORT_SQL[key];
    if (!sort) throw new Error(`sort must be one of ${RUN_SORT_KEYS.join(', ')}, received ${f.sort}`);
    const order = f.order === 'asc' ? 'ASC' : 'DESC';
    // Nullable keys sort their NULLs last. By id (the default) SQLite walks the rowid order and stops at
    // the LIMIT, so the derived columns are computed for one page, not for every run.
    if (key === 'id') return `ORDER BY r.id ${order}`;
    return NOT_NULL_SORT_KEYS.has(key) ? `ORDER BY ${sort} ${order}, r.id ${order}` : `ORDER BY ${sort} IS NULL, ${sort} ${order}, r.id ${order}`;
  }

  listRuns(filter: RunFilter = {}): RunRecord[] {
    const { where, params } = this.runWhere(filter);
    const sql = `SELECT ${RUN_COLUMNS}, r.config_json ${RUN_FROM} ${where} ${this.orderBy(filter)} LIMIT ? OFFSET ?`;
    return (this.stmt(sql).all(...params, filter.limit ?? -1, filter.offset ?? 0) as Row[]).map(toRun);
  }

  queryRuns(q: RunQuery = {}): { runs: RunSummary[]; total: number } {
    const { where, params } = this.runWhere(q);
    const limit = Math.max(1, Math.min(q.limit ?? 100, 5000));
    const offset = Math.max(0, q.offset ?? 0);
    const order = this.orderBy(q);
    // Sorted by anything but id: pick the page's ids on the sort key alone, then read the page's columns
    // (the derived config columns are json_extract calls: for one page, not for every run).
    const rows = (
      (q.sort ?? 'id') === 'id'
        ? this.stmt(`SELECT ${RUN_COLUMNS}, ${DERIVED_SELECT} ${RUN_FROM} ${where} ${order} LIMIT ? OFFSET ?`).all(...params, limit, offset)
        : this.stmt(
            `SELECT ${RUN_COLUMNS}, ${DERIVED_SELECT} ${RUN_FROM} WHERE r.id IN (SELECT r.id ${RUN_FROM} ${where} ${order} LIMIT ? OFFSET ?) ${order}`,
          ).all(...params, limit, offset)
    ) as Row[];
    const total = (this.stmt(`SELECT count(*) AS n ${RUN_FROM} ${where}`).get(...params) as { n: number }).n;
    const now = Date.now();
    return { runs: this.withTagsMetricsLatest(rows.map((r) => toRunSummary(r, now)), q.latestKeys ?? ['loss']), total };
  }

  scanRuns(filter: RunFilter, apart: readonly string[], opts: { tags?: boolean } = {}): RunScan {
    const paths = apart.map(configKeyPath); // checks each key is a dotted identifier (they are spliced into SQL)
    const { where, params } = this.runWhere({ ...filter, sort: undefined, limit: undefined, offset: undefined });
    // SQLite takes the apart keys out of each config (json_remove) and reads them per run (one parse of
    // the config serves both); the configs left are mostly equal text, parsed here once per distinct text,
    // and the derived columns are read from that parse, not from every run's config.
    const apartSql = apart.length === 0 ? 'NULL' : apart.length === 1 ? `json_array(r.config_json -> '${paths[0]}')` : `json_extract(r.config_json, ${paths.map((p) => `'${p}'`).join(', ')})`;
    const rows = this.stmt(
      `SELECT ${SCAN_COLUMNS}, json_remove(r.config_json${paths.map((p) => `, '${p}'`).join('')}) AS sig, ${apartSql} AS apart_json
       ${RUN_FROM} ${where} ORDER BY r.id DESC`,
    ).all(...params) as Row[];
    const configs: unknown[] = [];
    const index = new Map<string, number>();
    const keysOf = new Map<string, ReturnType<typeof derivedKeys>>();
    const runs = rows.map((row) => {
      let i = index.get(row.sig);
      if (i === undefined) {
        index.set(row.sig, (i = configs.length));
        configs.push(JSON.parse(row.sig));
      }
      const values: unknown[] = row.apart_json ? JSON.parse(row.apart_json) : [];
      const apartOf: Record<string, unknown> = {};
      apart.forEach((k, j) => (apartOf[k] = values[j] ?? null));
      const kindMethod = `${row.kind}\0${row.method}`;
      let keys = keysOf.get(kindMethod);
      if (!keys) keysOf.set(kindMethod, (keys = derivedKeys({ kind: row.kind, method: row.method ?? null })));
      for (const [col, key] of keys) row[`d_${col}`] = key === undefined ? null : sqlValue(key in apartOf ? apartOf[key] : atPath(configs[i], key));
      row.cfg = i;
      row.apart = apartOf;
      return toScanRow(row);
    });
    if (runs.length === 0) return { configs, runs };
    const byId = new Map(runs.map((r) => [r.id, r]));
    const scope = `SELECT r.id ${RUN_FROM} ${where}`;
    const metricRows = this.stmt(
      `SELECT run_id, metric, avg(value) FROM eval_metrics WHERE run_id IN (${scope}) AND metric IN (${RUN_LIST_METRICS.map(lit).join(',')}) GROUP BY run_id, metric`,
    ).raw(true).all(...params) as Array<[number, string, number | null]>;
    for (const [id, metric, value] of metricRows) byId.get(id)!.metrics[metric] = value;
    if (opts.tags) {
      const tagRows = this.stmt(`SELECT run_id, key, value FROM tags WHERE run_id IN (${scope}) ORDER BY run_id, key`).raw(true).all(...params) as Array<[number, string, string]>;
      for (const [id, key, value] of tagRows) byId.get(id)!.tags[key] = value;
    }
    return { configs, runs };
  }

  // Tags, fold-mean metrics and latest per-step values of a page of runs in three queries (not one per row).
  private withTagsMetricsLatest(runs: RunSummary[], latestKeys: string[]): RunSummary[] {
    if (runs.length === 0) return runs;
    const ids = JSON.stringify(runs.map((r) => r.id));
    const byId = new Map(runs.map((r) => [r.id, r]));
    const metricRows = this.stmt(
      `SELECT run_id, metric, avg(value) FROM eval_metrics WHERE run_id IN (SELECT value FROM json_each(?))
       AND metric IN (${RUN_LIST_METRICS.map(lit).join(',')}) GROUP BY run_id, metric`,
    ).raw(true).all(ids) as Array<[number, string, number | null]>;
    for (const [id, metric, value] of metricRows) byId.get(id)!.metrics[metric] = value;
    const tagRows = this.stmt('SELECT run_id, key, value FROM tags WHERE run_id IN (SELECT value FROM json_each(?)) ORDER BY run_id, key').raw(true).all(ids) as Array<
      [number, string, string]
    >;
    for (const [id, key, value] of tagRows) byId.get(id)!.tags[key] = value;
    if (latestKeys.length) {
      const latest = this.stmt(
        `SELECT ${LATEST_COLUMNS} FROM metrics_latest WHERE run_id IN (SELECT value FROM json_each(?)) AND key IN (SELECT value FROM json_each(?))`,
      ).all(ids, JSON.stringify(latestKeys)) as Row[];
      for (const r of latest) byId.get(r.run_id)!.latest[r.key] = toLatestMetric(r);
    }
    return runs;
  }

  runStates(ids: number[]): RunState[] {
    return (
      this.stmt('SELECT id, status, step, deleted_at, attempts, cancel_requested_at FROM runs WHERE id IN (SELECT value FROM json_each(?))').all(JSON.stringify(ids)) as Row[]
    ).map(toRunState);
  }

  liveRunStates(since: number): RunState[] {
    // runs_status index covers the queued/running part; finished runs are few per poll window.
    return (
      this.stmt(
        `SELECT id, status, step, deleted_at, attempts, cancel_requested_at FROM runs WHERE status IN ('queued','running')
         UNION SELECT id, status, step, deleted_at, attempts, cancel_requested_at FROM runs WHERE finished_at >= ?`,
      ).all(since) as Row[]
    ).map(toRunState);
  }

  maxRunId(): number {
    return (this.stmt('SELECT max(id) FROM runs').raw(true).get() as [number | null])[0] ?? 0;
  }

  cancelRequested(runId: number): boolean {
    return this.stmt('SELECT 1 FROM runs WHERE id = ? AND cancel_requested_at IS NOT NULL').get(runId) !== undefined;
  }

  /** Dotted config keys seen in the newest runs' configs (sweep parents, whose config is { base, grid }, skipped). */
  configKeys(sample = 50): string[] {
    const rows = this.stmt(`SELECT config_json FROM runs WHERE kind <> 'sweep' ORDER BY id DESC LIMIT ?`).raw(true).all(sample) as Array<[string]>;
    const keys = new Set<string>();
    for (const [json] of rows) for (const k of configKeysOf(JSON.parse(json))) keys.add(k);
    return [...keys].sort();
  }

  // ---- runs: writes ----

  createRun(run: NewRun): number {
    return this.transaction(() => this.insertRun(run));
  }

  private insertRun(run: NewRun): number {
    const experimentId = this.ensureExperiment(run.experiment);
    const info = this.stmt(
      `INSERT INTO runs (experiment_id, parent_run_id, name, kind, method, status, config_json, seed, init_from, created_at, max_attempts, total_steps)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      experimentId,
      run.parentRunId ?? null,
      run.name ?? '',
      run.kind,
      run.method ?? null,
      run.status ?? 'queued',
      JSON.stringify(run.config),
      run.seed,
      run.initFrom ?? null,
      Date.now(),
      run.maxAttempts ?? 3,
      run.totalSteps ?? null,
    );
    return Number(info.lastInsertRowid);
  }

  createSweep(parent: Omit<NewRun, 'kind'>, children: Omit<NewRun, 'parentRunId' | 'experiment'>[]): { parentId: number; childIds: number[] } {
    return this.transaction(() => {
      const parentId = this.insertRun({ ...parent, kind: 'sweep', status: 'queued' });
      const childIds = children.map((c) => this.insertRun({ ...c, experiment: parent.experiment, parentRunId: parentId }));
      return { parentId, childIds };
    });
  }

  /**
   * Atomically claims the oldest queued run (sweep parents excluded): status running, lease to `owner`
   * until now + leaseMs, attempts + 1, a new lease epoch. Expired leases are re-queued (or failed past
   * max_attempts) first. `executor` records what runs it (Slurm job and task...). `resumeOwn`: when
   * `owner` already holds a running run, that run is returned again (a remote worker whose claim
   * response was lost asks again and must not get a second run while the first one goes stale).
   */
  claimRun(
    owner: string,
    leaseMs: number,
    opts: { kinds?: readonly string[]; runId?: number; executor?: ExecutorInfo; resumeOwn?: boolean } = {},
  ): RunRecord | undefined {
    return this.transaction(() => {
      const now = Date.now();
      if (opts.resumeOwn) {
        const own = this.stmt(`SELECT id FROM runs WHERE status = 'running' AND lease_owner = ? ORDER BY id LIMIT 1`).get(owner) as { id: number } | undefined;
        if (own) {
          // Extends, never shortens: a claim does not cut the lease the holder asked for.
          this.stmt('UPDATE runs SET lease_expires_at = max(lease_expires_at, ?), heartbeat_at = ? WHERE id = ?').run(now + leaseMs, now, own.id);
          return this.getRun(own.id)!;
        }
      }
      this.requeueExpiredInTx(now);
      const kinds = opts.kinds ?? LAUNCHABLE_KINDS;
      const marks = kinds.map(() => '?').join(',');
      const row = (
        opts.runId !== undefined
          ? this.stmt(`SELECT id FROM runs WHERE id = ? AND status = 'queued' AND kind IN (${marks}) AND deleted_at IS NULL`).get(opts.runId, ...kinds)
          : this.stmt(`SELECT id FROM runs WHERE status = 'queued' AND kind IN (${marks}) AND deleted_at IS NULL ORDER BY id LIMIT 1`).get(...kinds)
      ) as { id: number } | undefined;
      if (!row) return undefined;
      this.stmt(
        `UPDATE runs SET status = 'running', lease_owner = ?, lease_expires_at = ?, heartbeat_at = ?, attempts = attempts + 1,
           lease_epoch = lease_epoch + 1, started_at = coalesce(started_at, ?), error = NULL WHERE id = ?`,
      ).run(owner, now + leaseMs, now, now, row.id);
      if (opts.executor) {
        this.stmt('UPDATE runs SET launcher = ?, launcher_job = ?, launcher_task = ? WHERE id = ?').run(
          opts.executor.launcher,
          opts.executor.job,
          opts.executor.task,
          row.id,
        );
      }
      const run = this.getRun(row.id)!;
      if (run.parentRunId !== null) this.refreshSweepInTx(run.parentRunId);
      return run;
    });
  }

  requeueExpired(now = Date.now()): { requeued: number[]; failed: number[]; cancelled: number[] } {
    return this.transaction(() => this.requeueExpiredInTx(now));
  }

  private requeueExpiredInTx(now: number): { requeued: number[]; failed: number[]; cancelled: number[] } {
    const expired = this.stmt(
      `SELECT id, attempts, max_attempts, lease_owner, parent_run_id, cancel_requested_at FROM runs WHERE status = 'running' AND lease_expires_at < ?`,
    ).all(now) as Row[];
    const out = { requeued: [] as number[], failed: [] as number[], cancelled: [] as number[] };
    for (const r of expired) {
      if (r.cancel_requested_at !== null) {
        // Its worker died after the user asked to cancel: nobody will checkpoint it any more.
        this.stmt(`UPDATE runs SET status = 'cancelled', finished_at = ?, lease_owner = NULL, lease_expires_at = NULL WHERE id = ?`).run(now, r.id);
        out.cancelled.push(r.id);
      } else if (r.attempts >= r.max_attempts) {
        this.stmt(`UPDATE runs SET status = 'failed', finished_at = ?, lease_owner = NULL, lease_expires_at = NULL, error = ? WHERE id = ?`).run(
          now,
          `lease of worker ${r.lease_owner} expired on attempt ${r.attempts} of ${r.max_attempts} (worker crashed or hung); no retries left`,
          r.id,
        );
        out.failed.push(r.id);
      } else {
        this.stmt(`UPDATE runs SET status = 'queued', lease_owner = NULL, lease_expires_at = NULL WHERE id = ?`).run(r.id);
        out.requeued.push(r.id);
      }
      if (r.parent_run_id !== null) this.refreshSweepInTx(r.parent_run_id);
    }
    return out;
  }

  heartbeat(runId: number, owner: string, leaseMs: number, step?: number): boolean {
    const now = Date.now();
    const info = this.stmt(
      `UPDATE runs SET heartbeat_at = ?, lease_expires_at = ?, step = coalesce(?, step) WHERE id = ? AND lease_owner = ? AND status = 'running'`,
    ).run(now, now + leaseMs, step ?? null, runId, owner);
    return info.changes === 1;
  }

  /**
   * The worker API's heartbeat: extends the lease when `lease` (owner and epoch) still holds the run.
   * `held: false` = the worker must stop; `state` says why (for its message).
   */
  renewLease(runId: number, lease: LeaseRef, leaseMs: number, step?: number): { held: boolean; cancelRequested: boolean; state: string } {
    const now = Date.now();
    const info = this.stmt(
      `UPDATE runs SET heartbeat_at = ?, lease_expires_at = ?, step = coalesce(?, step)
       WHERE id = ? AND lease_owner = ? AND lease_epoch = ? AND status = 'running'`,
    ).run(now, now + leaseMs, step ?? null, runId, lease.owner, lease.epoch);
    const held = info.changes === 1;
    return { held, cancelRequested: held && this.cancelRequested(runId), state: held ? 'held' : this.leaseState(runId, lease) };
  }

  /** Why `lease` no longer holds the run, in words (for LEASE_LOST messages). */
  private leaseState(runId: number, lease: LeaseRef): string {
    const r = this.stmt('SELECT status, lease_owner, lease_epoch FROM runs WHERE id = ?').get(runId) as Row | undefined;
    if (!r) return `run ${runId} does not exist`;
    if (r.status === 'running' && r.lease_epoch !== lease.epoch) {
      return `run ${runId} was re-queued after the lease of attempt ${lease.epoch} expired and is now attempt ${r.lease_epoch}, held by worker ${r.lease_owner}`;
    }
    if (r.status === 'running') return `run ${runId} attempt ${lease.epoch} is held by worker ${r.lease_owner}, not ${lease.owner}`;
    if (r.status === 'queued') return `run ${runId} was re-queued after the lease of attempt ${lease.epoch} expired (it waits for a worker)`;
    return `run ${runId} is ${r.status}`;
  }

  /**
   * The worker API's writes: a batch of one worker's ops for one run, applied in one transaction.
   * Ops the ledger has seen (same run, epoch and seq) are acknowledged without being applied again;
   * the rest need the lease (STORE_LEASE_LOST otherwise, nothing applied). Paths are server paths
   * (uploads are resolved by the route before this is called).
   */
  applyWorkerWrites(runId: number, lease: LeaseRef, ops: SequencedOp[]): WriteResult {
    return this.transaction(() => {
      const seen = new Set(
        (this.stmt('SELECT seq FROM worker_writes WHERE run_id = ? AND epoch = ? AND seq IN (SELECT value FROM json_each(?))')
          .raw(true)
          .all(runId, lease.epoch, JSON.stringify(ops.map((o) => o.seq))) as Array<[number]>).map((r) => r[0]),
      );
      const fresh = ops.filter((o) => !seen.has(o.seq));
      if (fresh.length === 0) return { applied: 0, duplicates: ops.length };
      const r = this.stmt('SELECT status, lease_owner, lease_epoch FROM runs WHERE id = ?').get(runId) as Row | undefined;
      if (!r || r.status !== 'running' || r.lease_owner !== lease.owner || r.lease_epoch !== lease.epoch) {
        throw new StoreError('STORE_LEASE_LOST', `worker ${lease.owner} no longer holds run ${runId}: ${this.leaseState(runId, lease)}`);
      }
      const ledger = this.stmt('INSERT INTO worker_writes (run_id, epoch, seq, op, applied_at) VALUES (?, ?, ?, ?, ?)');
      const now = Date.now();
      for (const op of fresh) {
        if (TERMINAL_OPS.has(op.type) && op !== fresh[fresh.length - 1]) {
          throw new StoreError('STORE_BAD_STATE', `run ${runId}: a ${op.type} op must be the last op of its batch`);
        }
        this.applyOp(runId, lease.owner, op);
        ledger.run(runId, lease.epoch, op.seq, op.type, now);
      }
      return { applied: fresh.length, duplicates: ops.length - fresh.length };
    });
  }

  /**
   * Points [from, to) of one large metrics op, in their own transaction (the tracking server splits an op
   * of a million points so its reads are not held for seconds). The ledger row keeps how far the op got
   * (`metrics@<points>`) until its last slice marks it `metrics`: a slice sent again, or an op resent
   * after a crash between slices, applies only the points not stored yet. `applied` is 1 when this
   * slice completed the op, `duplicates` 1 when the op was already complete (both on its last slice only).
   */
  applyMetricsSlice(runId: number, lease: LeaseRef, op: SequencedOp & { type: 'metrics' }, from: number, to: number): WriteResult {
    return this.transaction(() => {
      const row = this.stmt('SELECT op FROM worker_writes WHERE run_id = ? AND epoch = ? AND seq = ?').get(runId, lease.epoch, op.seq) as { op: string } | undefined;
      if (row?.op === 'metrics') return { applied: 0, duplicates: to >= op.k.length ? 1 : 0 }; // counted once, on the last slice
      const done = row ? Number(row.op.split('@')[1] ?? 0) : 0;
      const r = this.stmt('SELECT status, lease_owner, lease_epoch FROM runs WHERE id = ?').get(runId) as Row | undefined;
      if (!r || r.status !== 'running' || r.lease_owner !== lease.owner || r.lease_epoch !== lease.epoch) {
        throw new StoreError('STORE_LEASE_LOST', `worker ${lease.owner} no longer holds run ${runId}: ${this.leaseState(runId, lease)}`);
      }
      const total = op.k.length;
      const start = Math.max(from, done);
      if (start < to) {
        const points: MetricPoint[] = [];
        for (let i = start; i < to; i++) points.push({ key: op.keys[op.k[i]], step: op.s[i], value: op.v[i], time: op.t[i] });
        this.logMetrics(runId, points);
      }
      const mark = to >= total ? 'metrics' : `metrics@${Math.max(to, done)}`;
      this.stmt(
        'INSERT INTO worker_writes (run_id, epoch, seq, op, applied_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (run_id, epoch, seq) DO UPDATE SET op = excluded.op, applied_at = excluded.applied_at',
      ).run(runId, lease.epoch, op.seq, mark, Date.now());
      return { applied: to >= total ? 1 : 0, duplicates: 0 };
    });
  }

  /** How long a statement waits for another connection's write lock before SQLITE_BUSY (default 10 s). */
  setBusyTimeout(ms: number): void {
    this.#db.pragma(`busy_timeout = ${Math.max(0, Math.floor(ms))}`);
  }

  private applyOp(runId: number, owner: string, op: SequencedOp): void {
    switch (op.type) {
      case 'metrics': return this.logMetrics(runId, metricPoints(op));
      case 'truncateMetrics': return this.truncateMetricsAfter(runId, op.after);
      case 'evaluation': return this.recordEvaluation(runId, op.evaluation);
      case 'checkpoint': return this.addCheckpoint(runId, op.step, op.path ?? '');
      case 'removeCheckpoints': return this.removeCheckpoints(runId, op.steps);
      case 'artifact': return this.addArtifact(runId, op.kind, op.path ?? '');
      case 'tag': return this.setTag(runId, op.key, op.value);
      case 'environment': return this.setRunEnvironment(runId, op);
      case 'progress': return this.setProgress(runId, op.step);
      case 'release': {
        this.releaseRun(runId, owner);
        return;
      }
      case 'complete': return this.completeRun(runId, owner);
      case 'fail': return this.failRun(runId, op.error, owner);
      case 'cancel': return this.cancelRun(runId, owner);
    }
  }

  /** Records which launcher job will execute these queued runs (the Slurm array job id); task ids come at claim. */
  setRunLauncher(runIds: number[], launcher: string, job: string | null): void {
    this.stmt(
      `UPDATE runs SET launcher = ?, launcher_job = ?, launcher_task = NULL WHERE id IN (SELECT value FROM json_each(?)) AND status = 'queued'`,
    ).run(launcher, job, JSON.stringify(runIds));
  }

  /**
   * Ends the lease of a worker known to be dead (its process is gone) so the run is re-queued now, not
   * when the lease runs out. Returns what requeueExpired did.
   */
  expireLease(runId: number, owner: string): { requeued: number[]; failed: number[]; cancelled: number[] } {
    return this.transaction(() => {
      const now = Date.now();
      this.stmt(`UPDATE runs SET lease_expires_at = ? WHERE id = ? AND lease_owner = ? AND status = 'running'`).run(now - 1, runId, owner);
      return this.requeueExpiredInTx(now);
    });
  }

  /** Records what the run is executing on (tf backend, code version). */
  setRunEnvironment(runId: number, env: { engine?: string; codeVersion?: string; totalSteps?: number }): void {
    this.stmt(`UPDATE runs SET engine = coalesce(?, engine), code_version = coalesce(?, code_version), total_steps = coalesce(?, total_steps) WHERE id = ?`).run(
      env.engine ?? null,
      env.codeVersion ?? null,
      env.totalSteps ?? null,
      runId,
    );
  }

  setProgress(runId: number, step: number): void {
    this.stmt('UPDATE runs SET step = ? WHERE id = ?').run(step, runId);
  }

  /**
   * Gives a claimed run back to the queue (graceful shutdown); the attempt is not counted. A run whose
   * cancel was requested is cancelled instead: the user does not want it back.
   */
  releaseRun(runId: number, owner: string): boolean {
    return this.transaction(() => {
      const info = this.stmt(
        `UPDATE runs SET status = CASE WHEN cancel_requested_at IS NULL THEN 'queued' ELSE 'cancelled' END,
           finished_at = CASE WHEN cancel_requested_at IS NULL THEN finished_at ELSE ? END,
           lease_owner = NULL, lease_expires_at = NULL, attempts = max(attempts - 1, 0)
         WHERE id = ? AND lease_owner = ? AND status = 'running'`,
      ).run(Date.now(), runId, owner);
      this.refreshParentOf(runId);
      return info.changes === 1;
    });
  }

  completeRun(runId: number, owner?: string): void {
    this.finish(runId, 'completed', null, owner);
  }

  failRun(runId: number, error: string, owner?: string): void {
    this.finish(runId, 'failed', error, owner);
  }

  cancelRun(runId: number, owner?: string): void {
    this.transaction(() => this.cancelInTx(runId, owner));
  }

  private cancelInTx(runId: number, owner?: string): void {
    const run = this.requireRun(runId);
    if (TERMINAL_STATUSES.includes(run.status)) throw new StoreError('STORE_BAD_STATE', `run ${runId} is already ${run.status}; nothing to cancel`);
    if (owner !== undefined && run.leaseOwner !== owner) throw new StoreError('STORE_BAD_STATE', `run ${runId} is not held by ${owner}; not cancelling it`);
    const ids = run.kind === 'sweep' ? [runId, ...this.childIds(runId)] : [runId];
    const cancel = this.stmt(
      `UPDATE runs SET status = 'cancelled', finished_at = ?, lease_owner = NULL, lease_expires_at = NULL WHERE id = ? AND status IN ('queued','running')`,
    );
    for (const id of ids) cancel.run(Date.now(), id);
    this.refreshParentOf(runId);
  }

  requestCancel(runId: number): 'cancelled' | 'requested' {
    return this.transaction(() => {
      const run = this.requireRun(runId);
      if (TERMINAL_STATUSES.includes(run.status)) throw new StoreError('STORE_BAD_STATE', `run ${runId} is already ${run.status}; nothing to cancel`);
      const now = Date.now();
      // A worker holds a running run with a live lease: ask it, it checkpoints and stops. Anything else
      // (queued, a lease that expired: the worker is gone) is cancelled here.
      const held = (r: { status: RunStatus; leaseExpiresAt: number | null }) => r.status === 'running' && (r.leaseExpiresAt ?? 0) >= now;
      const members = run.kind === 'sweep' ? this.childIds(runId).map((id) => this.getRun(id)!) : [run];
      let requested = false;
      for (const m of members) {
        if (TERMINAL_STATUSES.includes(m.status)) continue;
        if (held(m)) {
          this.stmt('UPDATE runs SET cancel_requested_at = coalesce(cancel_requested_at, ?) WHERE id = ?').run(now, m.id);
          requested = true;
        } else {
          this.stmt(`UPDATE runs SET status = 'cancelled', finished_at = ?, lease_owner = NULL, lease_expires_at = NULL WHERE id = ?`).run(now, m.id);
        }
      }
      if (run.kind === 'sweep') this.stmt(`UPDATE runs SET status = 'cancelled', finished_at = ? WHERE id = ?`).run(now, runId);
      else this.refreshParentOf(runId);
      return requested ? 'requested' : 'cancelled';
    });
  }

  private finish(runId: number, status: RunStatus, error: string | null, owner?: string): void {
    this.transaction(() => {
      const info = this.stmt(
        `UPDATE runs SET status = ?, error = ?, finished_at = ?, lease_owner = NULL, lease_expires_at = NULL
         WHERE id = ? AND status IN ('queued','running') AND (? IS NULL OR lease_owner = ?)`,
      ).run(status, error, Date.now(), runId, owner ?? null, owner ?? null);
      if (info.changes !== 1) throw new StoreError('STORE_BAD_STATE', `run ${runId} is not held by ${owner ?? 'anyone'}; not marking it ${status}`);
      this.refreshParentOf(runId);
    });
  }

  requeueRun(runId: number): void {
    this.transaction(() => {
      const run = this.requireRun(runId);
      if (run.status === 'running' || run.status === 'queued') throw new StoreError('STORE_BAD_STATE', `run ${runId} is ${run.status}; only finished runs can be re-queued`);
      this.stmt(`UPDATE runs SET status = 'queued', attempts = 0, error = NULL, finished_at = NULL, cancel_requested_at = NULL WHERE id = ?`).run(runId);
      this.refreshParentOf(runId);
    });
  }

  archiveRuns(runIds: number[], archived: boolean): void {
    this.transaction(() => {
      for (const id of runIds) this.requireRun(id);
      const ids = JSON.stringify(runIds);
      this.stmt('UPDATE runs SET deleted_at = ? WHERE id IN (SELECT value FROM json_each(?)) OR parent_run_id IN (SELECT value FROM json_each(?))').run(
        archived ? Date.now() : null,
        ids,
        ids,
      );
    });
  }

  private childIds(parentId: number): number[] {
    return (this.stmt('SELECT id FROM runs WHERE parent_run_id = ? ORDER BY id').all(parentId) as Row[]).map((r) => r.id);
  }

  private refreshParentOf(runId: number): void {
    const row = this.stmt('SELECT parent_run_id FROM runs WHERE id = ?').get(runId) as Row | undefined;
    if (row?.parent_run_id != null) this.refreshSweepInTx(row.parent_run_id);
  }

  /** A sweep parent's status follows its children: running while any runs, failed if any failed. */
  private refreshSweepInTx(parentId: number): void {
    const counts = this.stmt('SELECT status, count(*) AS n FROM runs WHERE parent_run_id = ? GROUP BY status').all(parentId) as Row[];
    const n = Object.fromEntries(counts.map((c) => [c.status, c.n])) as Record<RunStatus, number | undefined>;
    const parent = this.stmt('SELECT status FROM runs WHERE id = ?').get(parentId) as Row;
    if (parent.status === 'cancelled') return;
    let status: RunStatus;
    if (n.running) status = 'running';
    else if (n.queued) status = n.completed || n.failed ? 'running' : 'queued';
    else if (n.failed) status = 'failed';
    else if (n.completed) status = 'completed';
    else status = 'cancelled';
    const terminal = TERMINAL_STATUSES.includes(status);
    this.stmt(`UPDATE runs SET status = ?, started_at = CASE WHEN ? THEN coalesce(started_at, ?) ELSE started_at END, finished_at = ? WHERE id = ?`).run(
      status,
      status !== 'queued' ? 1 : 0,
      Date.now(),
      terminal ? Date.now() : null,
      parentId,
    );
  }

  // ---- params and tags ----

  logParams(runId: number, params: Record<string, string | number | boolean>): void {
    this.transaction(() => {
      for (const [key, raw] of Object.entries(params)) {
        const value = String(raw);
        const old = this.stmt('SELECT value FROM params WHERE run_id = ? AND key = ?').get(runId, key) as Row | undefined;
        if (old && old.value !== value) {
          throw new StoreError('STORE_PARAM_CONFLICT', `param ${key} of run ${runId} is already ${JSON.stringify(old.value)}; params are write-once (got ${JSON.stringify(value)})`);
        }
        if (!old) this.stmt('INSERT INTO params (run_id, key, value) VALUES (?, ?, ?)').run(runId, key, value);
      }
    });
  }

  getParams(runId: number): Record<string, string> {
    return Object.fromEntries((this.stmt('SELECT key, value FROM params WHERE run_id = ? ORDER BY key').all(runId) as Row[]).map((r) => [r.key, r.value]));
  }

  setTag(runId: number, key: string, value: string): void {
    this.stmt('INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value').run(runId, key, value);
  }

  setTags(runIds: number[], key: string, value: string): void {
    this.transaction(() => {
      for (const id of runIds) this.requireRun(id);
      for (const id of runIds) this.setTag(id, key, value);
    });
  }

  deleteTag(runId: number, key: string): void {
    this.stmt('DELETE FROM tags WHERE run_id = ? AND key = ?').run(runId, key);
  }

  getTags(runId: number): Record<string, string> {
    return Object.fromEntries((this.stmt('SELECT key, value FROM tags WHERE run_id = ? ORDER BY key').all(runId) as Row[]).map((r) => [r.key, r.value]));
  }

  // ---- metrics ----

  /**
   * Appends points to the history and updates the latest table, in one transaction. The latest row is
   * updated once per key of the batch (count, extremes, and the point a sequential update would leave:
   * the last point with the highest step), not once per point: remote workers send batches of thousands.
   */
  logMetrics(runId: number, points: MetricPoint[]): void {
    if (points.length === 0) return;
    const ins = this.stmt('INSERT INTO metrics (run_id, key, step, value, time) VALUES (?, ?, ?, ?, ?)');
    const latest = this.stmt(LATEST_UPSERT);
    const now = Date.now();
    const byKey = new Map<string, { step: number; value: number | null; time: number; points: number; min: number | null; max: number | null }>();
    this.transaction(() => {
      for (const p of points) {
        const t = p.time ?? now;
        const v = encodeReal(p.value);
        ins.run(runId, p.key, p.step, v, t);
        const a = byKey.get(p.key);
        if (!a) {
          byKey.set(p.key, { step: p.step, value: v, time: t, points: v === null ? 0 : 1, min: v, max: v });
          continue;
        }
        if (p.step >= a.step) (a.step = p.step, a.value = v, a.time = t);
        if (v !== null) {
          a.points++;
          a.min = a.min === null || v < a.min ? v : a.min;
          a.max = a.max === null || v > a.max ? v : a.max;
        }
      }
      for (const [key, a] of byKey) latest.run(runId, key, a.step, a.value, a.time, a.points, a.min, a.max);
    });
  }

  /** A buffered logger: points are written in one transaction every `flushEvery` points or on flush(). */
  metricLogger(runId: number, flushEvery = 256): MetricLogger {
    return new MetricLogger(this, runId, flushEvery);
  }

  getMetricHistory(runId: number, key: string, range: { minStep?: number; maxStep?: number } = {}): { step: number; value: number; time: number }[] {
    const rows = this.stmt('SELECT step, value, time FROM metrics WHERE run_id = ? AND key = ? AND step BETWEEN ? AND ? ORDER BY step').all(
      runId,
      key,
      range.minStep ?? Number.MIN_SAFE_INTEGER,
      range.maxStep ?? Number.MAX_SAFE_INTEGER,
    ) as Row[];
    return rows.map((r) => ({ step: r.step, value: decodeReal(r.value), time: r.time }));
  }

  getLatestMetrics(runId: number): Record<string, LatestMetric> {
    const rows = this.stmt(`SELECT ${LATEST_COLUMNS} FROM metrics_latest WHERE run_id = ? ORDER BY key`).all(runId) as Row[];
    return Object.fromEntries(rows.map((r) => [r.key, toLatestMetric(r)]));
  }

  metricKeys(runId: number): string[] {
    return Object.keys(this.getLatestMetrics(runId));
  }

  metricSeries(runId: number, key: string, maxPoints: number): MetricSeries {
    if (!Number.isInteger(maxPoints) || maxPoints < 4) {
      throw new RangeError(`metricSeries: maxPoints must be an integer >= 4, received ${maxPoints}`);
    }
    // The count is kept in metrics_latest and the step range comes from two index seeks: no scan here.
    const [total, nan, lo, hi] = this.stmt(
      `SELECT (SELECT points FROM metrics_latest WHERE run_id = @run AND key = @key),
              (SELECT count(*) FROM metrics WHERE run_id = @run AND key = @key AND value IS NULL),
              (SELECT min(step) FROM metrics WHERE run_id = @run AND key = @key AND value IS NOT NULL),
              (SELECT max(step) FROM metrics WHERE run_id = @run AND key = @key AND value IS NOT NULL)`,
    ).raw(true).get({ run: runId, key }) as [number | null, number, number, number];
    const rows =
      (total ?? 0) <= maxPoints
        ? this.stmt('SELECT step, value FROM metrics WHERE run_id = ? AND key = ? AND value IS NOT NULL ORDER BY step').raw(true).all(runId, key)
        : this.stmt(DOWNSAMPLE_SQL).raw(true).all({ run: runId, key, bounds: JSON.stringify(stepBuckets(lo, hi, Math.floor(maxPoints / 4))) });
    const steps: number[] = [];
    const values: number[] = [];
    for (const [step, value] of rows as Array<[number, number]>) {
      steps.push(step);
      values.push(value);
    }
    return { steps, values, total: total ?? 0, nan };
  }

  metricStepRange(runIds: number[], key: string): { lo: number; hi: number } | null {
    let lo = Infinity;
    let hi = -Infinity;
    const q = this.stmt(
      `SELECT (SELECT min(step) FROM metrics WHERE run_id = @run AND key = @key AND value IS NOT NULL),
              (SELECT max(step) FROM metrics WHERE run_id = @run AND key = @key AND value IS NOT NULL)`,
    ).raw(true);
    for (const run of runIds) {
      const [a, b] = q.get({ run, key }) as [number | null, number | null];
      if (a !== null && b !== null) (lo = Math.min(lo, a), hi = Math.max(hi, b));
    }
    return Number.isFinite(lo) ? { lo, hi } : null;
  }

  metricBucketMeans(runIds: number[], key: string, { lo, hi, buckets }: { lo: number; hi: number; buckets: number }): BucketMeans[] {
    if (!Number.isInteger(buckets) || buckets < 1) throw new RangeError(`metricBucketMeans: buckets must be an integer >= 1, received ${buckets}`);
    const span = Math.max(1, hi - lo + 1);
    const rows = this.stmt(
      `SELECT run_id, CAST(((step - @lo) * @n) / @span AS INTEGER) AS b, avg(value) FROM metrics
       WHERE run_id IN (SELECT value FROM json_each(@ids)) AND key = @key AND value IS NOT NULL AND step BETWEEN @lo AND @hi
       GROUP BY run_id, b`,
    ).raw(true).all({ ids: JSON.stringify(runIds), key, lo, hi, n: buckets, span }) as Array<[number, number, number]>;
    const out = new Map(runIds.map((id) => [id, { runId: id, means: new Map<number, number>() }]));
    for (const [id, b, mean] of rows) out.get(id)!.means.set(b, mean);
    return [...out.values()];
  }

  maxMetricRowid(): number {
    return (this.stmt('SELECT max(rowid) FROM metrics').raw(true).get() as [number | null])[0] ?? 0;
  }

  metricPointsSince(rowid: number, limit: number): MetricPointRow[] {
    return (
      this.stmt('SELECT rowid, run_id, key, step, value FROM metrics WHERE rowid > ? ORDER BY rowid LIMIT ?').raw(true).all(rowid, limit) as Array<
        [number, number, string, number, number | null]
      >
    ).map(([rid, runId, key, step, value]) => ({ rowid: rid, runId, key, step, value: decodeReal(value) }));
  }

  truncateMetricsAfter(runId: number, step: number): void {
    this.transaction(() => {
      this.stmt('DELETE FROM metrics WHERE run_id = ? AND step > ?').run(runId, step);
      this.stmt('DELETE FROM metrics_latest WHERE run_id = ?').run(runId);
      this.stmt(
        `INSERT INTO metrics_latest (${LATEST_COLUMNS})
         SELECT m.run_id, m.key, m.step, m.value, m.time,
                (SELECT count(m3.value) FROM metrics m3 WHERE m3.run_id = m.run_id AND m3.key = m.key),
                (SELECT min(m3.value) FROM metrics m3 WHERE m3.run_id = m.run_id AND m3.key = m.key),
                (SELECT max(m3.value) FROM metrics m3 WHERE m3.run_id = m.run_id AND m3.key = m.key) FROM metrics m
         WHERE m.run_id = ? AND m.rowid = (SELECT m2.rowid FROM metrics m2 WHERE m2.run_id = m.run_id AND m2.key = m.key ORDER BY m2.step DESC, m2.rowid DESC LIMIT 1)`,
      ).run(runId);
    });
  }

  // ---- evaluation ----

  recordEvaluation(runId: number, ev: EvaluationRecord): void {
    this.transaction(() => {
      for (const table of ['eval_metrics', 'curves', 'routing', 'score_histograms', 'embedding_samples']) {
        this.stmt(`DELETE FROM ${table} WHERE run_id = ? AND protocol = ? AND fold = ?`).run(runId, ev.protocol, ev.fold);
      }
      const m = this.stmt('INSERT INTO eval_metrics (run_id, protocol, fold, metric, value, count) VALUES (?, ?, ?, ?, ?, ?)');
      for (const [metric, v] of Object.entries(ev.metrics)) m.run(runId, ev.protocol, ev.fold, metric, encodeReal(v.value), v.count ?? null);
      const c = this.stmt('INSERT INTO curves (run_id, protocol, fold, kind, x_json, y_json, thr_json) VALUES (?, ?, ?, ?, ?, ?, ?)');
      for (const kind of ['roc', 'cmc'] as const) {
        const curve = ev.curves?.[kind];
        if (curve) c.run(runId, ev.protocol, ev.fold, kind, encodeArray(curve.x), encodeArray(curve.y), curve.thr ? encodeArray(curve.thr) : null);
      }
      const r = this.stmt('INSERT INTO routing (run_id, protocol, fold, block, modality, expert, count) VALUES (?, ?, ?, ?, ?, ?, ?)');
      for (const x of ev.routing ?? []) r.run(runId, ev.protocol, ev.fold, x.block, x.modality, x.expert, x.count);
      if (ev.scores) {
        const h = checkScoreHistogram(ev.scores);
        this.stmt(
          'INSERT INTO score_histograms (run_id, protocol, fold, lo, hi, genuine_json, impostor_json, genuine_outside, impostor_outside) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        ).run(runId, ev.protocol, ev.fold, h.lo, h.hi, JSON.stringify(h.genuine), JSON.stringify(h.impostor), h.outside.genuine, h.outside.impostor);
      }
      if (ev.embeddings) {
        const e = checkEmbeddingSample(ev.embeddings);
        this.stmt(
          'INSERT INTO embedding_samples (run_id, protocol, fold, dim, gallery_total, probe_total, subjects_total, points_json, vectors) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        ).run(runId, ev.protocol, ev.fold, e.dim, e.total.gallery, e.total.probe, e.total.subjects, encodePoints(e.points), encodeVectors(e.vectors));
      }
    });
  }

  getScoreHistograms(runId: number): ScoreHistogramRecord[] {
    return (this.stmt('SELECT * FROM score_histograms WHERE run_id = ? ORDER BY protocol, fold').all(runId) as Row[]).map(toScoreHistogram);
  }

  listEmbeddingSamples(runId: number): EmbeddingSampleInfo[] {
    return (
      this.stmt('SELECT protocol, fold, dim, gallery_total, probe_total, subjects_total, points_json FROM embedding_samples WHERE run_id = ? ORDER BY protocol, fold').all(runId) as Row[]
    ).map(toEmbeddingSampleInfo);
  }

  getEmbeddingSample(runId: number, protocol: string, fold: string): EmbeddingSampleRecord | undefined {
    const row = this.stmt('SELECT * FROM embedding_samples WHERE run_id = ? AND protocol = ? AND fold = ?').get(runId, protocol, fold) as Row | undefined;
    return row && toEmbeddingSample(row);
  }

  listEvalMetrics(runIds: number[]): EvalRow[] {
    return (
      this.stmt(
        `SELECT run_id, protocol, fold, metric, value, count FROM eval_metrics WHERE run_id IN (SELECT value FROM json_each(?))
         ORDER BY run_id, protocol, fold, metric`,
      ).all(JSON.stringify(runIds)) as Row[]
    ).map(toEvalRow);
  }

  getEvalMetrics(runId: number): Omit<EvalRow, 'runId'>[] {
    return this.listEvalMetrics([runId]).map(({ runId: _r, ...rest }) => rest);
  }

  evalMetricNames(): string[] {
    // DISTINCT over the (protocol, metric) index: no table scan.
    return (this.stmt('SELECT DISTINCT metric FROM eval_metrics ORDER BY metric').raw(true).all() as Array<[string]>).map((r) => r[0]);
  }

  getCurves(runId: number, kind?: 'roc' | 'cmc'): CurveRecord[] {
    return (this.stmt('SELECT * FROM curves WHERE run_id = ? AND (? IS NULL OR kind = ?) ORDER BY protocol, fold, kind').all(runId, kind ?? null, kind ?? null) as Row[]).map(
      toCurve,
    );
  }

  getRouting(runId: number): RoutingRow[] {
    return (
      this.stmt('SELECT protocol, fold, block, modality, expert, count FROM routing WHERE run_id = ? ORDER BY protocol, fold, block, modality, expert').all(runId) as Row[]
    ).map(toRouting);
  }

  private scopeWhere(q: EvalScope): { where: string; params: unknown[] } {
    const clauses = [q.includeArchived ? '1' : 'r.deleted_at IS NULL'];
    const params: unknown[] = [];
    if (q.method !== undefined) (clauses.push('r.method = ?'), params.push(q.method));
    if (q.experimentId !== undefined) (clauses.push('r.experiment_id = ?'), params.push(q.experimentId));
    if (q.runIds) (clauses.push('r.id IN (SELECT value FROM json_each(?))'), params.push(JSON.stringify(q.runIds)));
    return { where: clauses.join(' AND '), params };
  }

  ablation(q: EvalScope & { metric: string; key: string; by?: string }): AblationPoint[] {
    const scope = this.scopeWhere(q);
    // Mean and sample std over (run, fold) values, by the tables' meanStd (the same numbers to the last
    // digit as a table cell over the same values); NULL (NaN) values are skipped. Only runs for which the key applies: a frozen baseline has no number of experts. With a
    // second key `by` (e.g. ssmb.expertKind against ssmb.numExperts) each of its values is its own series,
    // over the runs both keys apply to.
    const by = q.by !== undefined;
    const rows = this.stmt(
      `SELECT em.protocol, json_extract(r.config_json, ?) AS x, ${by ? 'json_extract(r.config_json, ?)' : 'NULL'} AS series, json_group_array(em.value) FILTER (WHERE em.value IS NOT NULL) AS vals,
              group_concat(DISTINCT r.id) AS ids
       FROM eval_metrics em JOIN runs r ON r.id = em.run_id
       WHERE em.metric = ? AND ${appliesSql(q.key)} AND ${by ? appliesSql(q.by!) : '1'} AND ${scope.where}
       GROUP BY em.protocol, series, x ORDER BY em.protocol, series, x`,
    ).all(configKeyPath(q.key), ...(by ? [configKeyPath(q.by!)] : []), q.metric, ...scope.params) as Row[];
    return rows.map((r) => {
      const values = (JSON.parse(r.vals) as number[]).map(decodeReal);
      const s = values.length > 0 ? meanStd(values) : { mean: Number.NaN, std: Number.NaN, n: 0 };
      return {
        protocol: r.protocol,
        x: r.x ?? null,
        ...(by ? { series: r.series ?? null } : {}),
        mean: s.mean,
        std: s.n > 1 ? s.std : Number.NaN,
        n: s.n,
        runIds: String(r.ids ?? '')
          .split(',')
          .filter(Boolean)
          .map(Number)
          .sort((a, b) => a - b),
      };
    });
  }

  evalByConfigKey(q: EvalScope & { metrics: string[]; key: string }): EvalByKeyRow[] {
    const scope = this.scopeWhere(q);
    // The config is parsed once per run (materialized CTE driving the join), not once per evaluation row.
    const rows = this.stmt(
      `WITH rx AS MATERIALIZED (SELECT r.id, r.kind, r.method, ${appliesSql(q.key)} AS applies, json_extract(r.config_json, ?) AS x FROM runs r WHERE ${scope.where})
       SELECT em.run_id, rx.x, rx.applies, rx.kind, rx.method, em.protocol, em.fold, em.metric, em.value
       FROM rx CROSS JOIN eval_metrics em ON em.run_id = rx.id
       WHERE em.metric IN (SELECT value FROM json_each(?))
       ORDER BY rx.x, em.protocol, em.fold, em.run_id`,
    ).raw(true).all(configKeyPath(q.key), ...scope.params, JSON.stringify(q.metrics)) as Array<[number, unknown, number, RunKind, EvalByKeyRow['method'], string, string, string, number | null]>;
    return rows.map(([runId, x, applies, kind, method, protocol, fold, metric, value]) => ({
      runId, x: (x ?? null) as EvalByKeyRow['x'], applies: applies === 1, kind, method, protocol, fold, metric, value: decodeReal(value),
    }));
  }

  // ---- checkpoints and artifacts ----

  addCheckpoint(runId: number, step: number, file: string): void {
    this.stmt('INSERT INTO checkpoints (run_id, step, path, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (run_id, step) DO UPDATE SET path = excluded.path, created_at = excluded.created_at').run(
      runId,
      step,
      toStoredPath(file, this.dir),
      Date.now(),
    );
  }

  listCheckpoints(runId: number): CheckpointRecord[] {
    return (this.stmt('SELECT * FROM checkpoints WHERE run_id = ? ORDER BY step').all(runId) as Row[]).map((r) => toCheckpoint(r, this.dir));
  }

  latestCheckpoint(runId: number): CheckpointRecord | undefined {
    const row = this.stmt('SELECT * FROM checkpoints WHERE run_id = ? ORDER BY step DESC LIMIT 1').get(runId) as Row | undefined;
    return row ? toCheckpoint(row, this.dir) : undefined;
  }

  initFromPaths(): string[] {
    return (this.stmt('SELECT DISTINCT init_from FROM runs WHERE init_from IS NOT NULL').raw(true).all() as Array<[string]>).map((r) => r[0]);
  }

  /** Forgets checkpoint rows, in one transaction (checkpoint/retention.ts deletes the files after). */
  removeCheckpoints(runId: number, steps: number[]): void {
    this.transaction(() => {
      for (const step of steps) this.stmt('DELETE FROM checkpoints WHERE run_id = ? AND step = ?').run(runId, step);
    });
  }

  addArtifact(runId: number, kind: string, file: string): void {
    this.stmt('INSERT INTO artifacts (run_id, kind, path, created_at) VALUES (?, ?, ?, ?)').run(runId, kind, toStoredPath(file, this.dir), Date.now());
  }

  listArtifacts(runId: number): ArtifactRecord[] {
    return (this.stmt('SELECT * FROM artifacts WHERE run_id = ? ORDER BY id').all(runId) as Row[]).map((r) => toArtifact(r, this.dir));
  }

  listFiles(runId: number): FileRecord[] {
    const rows = this.stmt(
      `SELECT run_id, 'checkpoint' AS kind, path, step, created_at FROM checkpoints WHERE run_id = @run
       UNION ALL SELECT run_id, kind, path, NULL AS step, created_at FROM artifacts WHERE run_id = @run
       ORDER BY created_at`,
    ).all({ run: runId }) as Row[];
    return rows.map((r) => toFile(r, this.dir));
  }
}

/**
 * Buffers per-step points and writes them in batches of `flushEvery` (one transaction, or one HTTP
 * write op). `log`/`logMany` return the flush's promise when they flush: await it, so a remote store
 * whose disk buffer is full pauses the loop instead of losing points.
 */
export class MetricLogger {
  private buffer: MetricPoint[] = [];
  constructor(
    private readonly store: Pick<RunStoreApi, 'logMetrics'>,
    private readonly runId: number,
    private readonly flushEvery: number,
  ) {}

  log(key: string, value: number, step: number): Promise<void> | void {
    this.buffer.push({ key, value, step, time: Date.now() });
    if (this.buffer.length >= this.flushEvery) return this.flush();
  }

  logMany(values: Record<string, number>, step: number): Promise<void> | void {
    const time = Date.now();
    for (const [key, value] of Object.entries(values)) this.buffer.push({ key, value, step, time });
    if (this.buffer.length >= this.flushEvery) return this.flush();
  }

  get pending(): number {
    return this.buffer.length;
  }

  async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const points = this.buffer;
    this.buffer = [];
    await this.store.logMetrics(this.runId, points);
  }
}
