// RunStore: the only module that speaks SQL (besides the read-only dashboard_queries.ts next to it).
// SQLite via better-sqlite3 in WAL mode; every multi-row write is one transaction.
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.ts';
import { explainOpenError } from './open_errors.ts';

export type RunStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';
export type RunKind = 'train' | 'pretrain' | 'evaluate' | 'sweep' | 'noop';
export type RunMethod = 'ssmb' | 'baseline';
export const TERMINAL_STATUSES: RunStatus[] = ['completed', 'failed', 'cancelled'];

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
  deletedAt: number | null;
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

export interface MetricPoint {
  key: string;
  step: number;
  value: number;
  time?: number;
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

export interface EvaluationRecord {
  protocol: string;
  fold: string;
  metrics: Record<string, EvalMetricValue>;
  curves?: { roc?: Curve; cmc?: Curve };
  routing?: RoutingCount[];
}

export interface CheckpointRecord {
  id: number;
  runId: number;
  step: number;
  path: string;
  createdAt: number;
}

export class StoreError extends Error {
  constructor(
    readonly code:
      | 'STORE_SCHEMA_OLDER' | 'STORE_SCHEMA_NEWER' | 'STORE_PARAM_CONFLICT' | 'STORE_NOT_FOUND' | 'STORE_BAD_STATE'
      | 'STORE_NOT_A_STORE' | 'STORE_READONLY',
    message: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

/** SQLite has no NaN: NULL in a REAL value column encodes NaN; +-Infinity are native REALs. */
export function encodeReal(v: number): number | null {
  return Number.isNaN(v) ? null : v;
}
export function decodeReal(v: number | null): number {
  return v === null ? Number.NaN : v;
}

const RUN_SELECT = `SELECT r.*, e.name AS experiment_name FROM runs r JOIN experiments e ON e.id = r.experiment_id`;

type Row = Record<string, any>;

function toRun(row: Row): RunRecord {
  return {
    id: row.id,
    experimentId: row.experiment_id,
    experimentName: row.experiment_name,
    parentRunId: row.parent_run_id,
    name: row.name,
    kind: row.kind,
    method: row.method,
    status: row.status,
    config: JSON.parse(row.config_json),
    seed: row.seed,
    engine: row.engine,
    codeVersion: row.code_version,
    initFrom: row.init_from,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    heartbeatAt: row.heartbeat_at,
    leaseOwner: row.lease_owner,
    leaseExpiresAt: row.lease_expires_at,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    step: row.step,
    totalSteps: row.total_steps,
    error: row.error,
    deletedAt: row.deleted_at,
  };
}

function readVersion(db: Database.Database): number | null {
  const has = db.prepare(`SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version'`).get();
  if (!has) return null;
  const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
  return row?.version ?? 0;
}

function applyMigrations(db: Database.Database, from: number): void {
  db.transaction(() => {
    if (from === 0) db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    for (const m of MIGRATIONS) if (m.version > from) db.exec(m.sql);
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

export interface OpenOptions {
  /** Open without writing (the dashboard, read commands); the store must exist. */
  readonly?: boolean;
  /** Refuse to create a missing store (commands that act on runs already in it). */
  mustExist?: boolean;
}

export class RunStore {
  /** The connection; SQL outside store/ is not allowed (store/dashboard_queries.ts reads through it). */
  readonly db: Database.Database;
  readonly file: string;
  private stmts = new Map<string, Database.Statement>();

  private constructor(db: Database.Database, file: string) {
    this.db = db;
    this.file = file;
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
    if ((opts.readonly || opts.mustExist) && fresh && file !== ':memory:') throw new StoreError('STORE_NOT_FOUND', `run store ${file} does not exist; create it with \`ssmb launch --store ${file} ...\``);
    const db = new Database(file, { readonly: !!opts.readonly });
    try {
      if (!opts.readonly) configure(db);
      else db.pragma('busy_timeout = 10000');
      let version = readVersion(db);
      if (version === null && !opts.readonly) {
        const tables = db.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE type='table'`).get() as { n: number };
        if (tables.n > 0) throw new StoreError('STORE_SCHEMA_OLDER', `${file} is an SQLite file but not a run store (no schema_version table)`);
        applyMigrations(db, 0);
        version = SCHEMA_VERSION;
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
      const from = readVersion(db) ?? 0;
      if (from > SCHEMA_VERSION) {
        throw new StoreError('STORE_SCHEMA_NEWER', `run store ${file} has schema version ${from}, newer than ${SCHEMA_VERSION}; update ssmb`);
      }
      if (from < SCHEMA_VERSION) applyMigrations(db, from);
      return { from, to: SCHEMA_VERSION };
    } finally {
      db.close();
    }
  }

  close(): void {
    this.db.close();
  }

  private stmt(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  /** Runs fn in one IMMEDIATE transaction (takes the write lock up front: no upgrade deadlocks). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  schemaVersion(): number {
    return readVersion(this.db) ?? 0;
  }

  integrityCheck(): string {
    return (this.db.pragma('integrity_check', { simple: true }) as string) ?? '';
  }

  // ---- experiments ----

  ensureExperiment(name: string, description = ''): number {
    if (!name.trim()) throw new StoreError('STORE_BAD_STATE', 'experiment name must be a non-empty string');
    const row = this.stmt('SELECT id FROM experiments WHERE name = ?').get(name) as { id: number } | undefined;
    if (row) return row.id;
    return Number(this.stmt('INSERT INTO experiments (name, description, created_at) VALUES (?, ?, ?)').run(name, description, Date.now()).lastInsertRowid);
  }

  listExperiments(): { id: number; name: string; description: string; createdAt: number; runCount: number }[] {
    return (
      this.stmt(
        `SELECT e.id, e.name, e.description, e.created_at, (SELECT count(*) FROM runs r WHERE r.experiment_id = e.id AND r.deleted_at IS NULL) AS n
         FROM experiments e ORDER BY e.id`,
      ).all() as Row[]
    ).map((r) => ({ id: r.id, name: r.name, description: r.description, createdAt: r.created_at, runCount: r.n }));
  }

  // ---- runs ----

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

  /** A sweep: one parent run (kind 'sweep', never claimed) and its queued children, in one transaction. */
  createSweep(parent: Omit<NewRun, 'kind'>, children: Omit<NewRun, 'parentRunId' | 'experiment'>[]): { parentId: number; childIds: number[] } {
    return this.transaction(() => {
      const parentId = this.insertRun({ ...parent, kind: 'sweep', status: 'queued' });
      const childIds = children.map((c) => this.insertRun({ ...c, experiment: parent.experiment, parentRunId: parentId }));
      return { parentId, childIds };
    });
  }

  getRun(id: number): RunRecord | undefined {
    const row = this.stmt(`${RUN_SELECT} WHERE r.id = ?`).get(id) as Row | undefined;
    return row ? toRun(row) : undefined;
  }

  requireRun(id: number): RunRecord {
    const run = this.getRun(id);
    if (!run) throw new StoreError('STORE_NOT_FOUND', `run ${id} does not exist in ${this.file}; list runs with \`ssmb runs list --store ${this.file}\``);
    return run;
  }

  listRuns(
    filter: { status?: RunStatus; experiment?: string; parentRunId?: number; kind?: RunKind; includeDeleted?: boolean; limit?: number; offset?: number } = {},
  ): RunRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.status) (where.push('r.status = ?'), args.push(filter.status));
    if (filter.experiment) (where.push('e.name = ?'), args.push(filter.experiment));
    if (filter.parentRunId !== undefined) (where.push('r.parent_run_id = ?'), args.push(filter.parentRunId));
    if (filter.kind) (where.push('r.kind = ?'), args.push(filter.kind));
    if (!filter.includeDeleted) where.push('r.deleted_at IS NULL');
    const sql = `${RUN_SELECT} ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY r.id DESC LIMIT ? OFFSET ?`;
    return (this.stmt(sql).all(...args, filter.limit ?? -1, filter.offset ?? 0) as Row[]).map(toRun);
  }

  /**
   * Atomically claims the oldest queued run (sweep parents excluded): status running, lease to `owner`
   * until now + leaseMs, attempts + 1. Expired leases are re-queued (or failed past max_attempts) first.
   */
  claimRun(owner: string, leaseMs: number, opts: { kinds?: RunKind[]; runId?: number } = {}): RunRecord | undefined {
    return this.transaction(() => {
      this.requeueExpiredInTx(Date.now());
      const kinds = opts.kinds ?? ['train', 'pretrain', 'evaluate', 'noop'];
      const marks = kinds.map(() => '?').join(',');
      const row = (
        opts.runId !== undefined
          ? this.stmt(`SELECT id FROM runs WHERE id = ? AND status = 'queued' AND kind IN (${marks}) AND deleted_at IS NULL`).get(opts.runId, ...kinds)
          : this.stmt(`SELECT id FROM runs WHERE status = 'queued' AND kind IN (${marks}) AND deleted_at IS NULL ORDER BY id LIMIT 1`).get(...kinds)
      ) as { id: number } | undefined;
      if (!row) return undefined;
      const now = Date.now();
      this.stmt(
        `UPDATE runs SET status = 'running', lease_owner = ?, lease_expires_at = ?, heartbeat_at = ?, attempts = attempts + 1,
           started_at = coalesce(started_at, ?), error = NULL WHERE id = ?`,
      ).run(owner, now + leaseMs, now, now, row.id);
      const run = this.getRun(row.id)!;
      if (run.parentRunId !== null) this.refreshSweepInTx(run.parentRunId);
      return run;
    });
  }

  /** Re-queues running runs whose lease expired; runs out of attempts fail with the reason. */
  requeueExpired(now = Date.now()): { requeued: number[]; failed: number[] } {
    return this.transaction(() => this.requeueExpiredInTx(now));
  }

  private requeueExpiredInTx(now: number): { requeued: number[]; failed: number[] } {
    const expired = this.stmt(`SELECT id, attempts, max_attempts, lease_owner, parent_run_id FROM runs WHERE status = 'running' AND lease_expires_at < ?`).all(now) as Row[];
    const requeued: number[] = [];
    const failed: number[] = [];
    for (const r of expired) {
      if (r.attempts >= r.max_attempts) {
        this.stmt(`UPDATE runs SET status = 'failed', finished_at = ?, lease_owner = NULL, lease_expires_at = NULL, error = ? WHERE id = ?`).run(
          now,
          `lease of worker ${r.lease_owner} expired on attempt ${r.attempts} of ${r.max_attempts} (worker crashed or hung); no retries left`,
          r.id,
        );
        failed.push(r.id);
      } else {
        this.stmt(`UPDATE runs SET status = 'queued', lease_owner = NULL, lease_expires_at = NULL WHERE id = ?`).run(r.id);
        requeued.push(r.id);
      }
      if (r.parent_run_id !== null) this.refreshSweepInTx(r.parent_run_id);
    }
    return { requeued, failed };
  }

  /** Extends the lease; false when this owner no longer holds the run (it must stop). */
  heartbeat(runId: number, owner: string, leaseMs: number, step?: number): boolean {
    const now = Date.now();
    const info = this.stmt(
      `UPDATE runs SET heartbeat_at = ?, lease_expires_at = ?, step = coalesce(?, step) WHERE id = ? AND lease_owner = ? AND status = 'running'`,
    ).run(now, now + leaseMs, step ?? null, runId, owner);
    return info.changes === 1;
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

  /** Gives a claimed run back to the queue (graceful shutdown); the attempt is not counted. */
  releaseRun(runId: number, owner: string): boolean {
    return this.transaction(() => {
      const info = this.stmt(
        `UPDATE runs SET status = 'queued', lease_owner = NULL, lease_expires_at = NULL, attempts = max(attempts - 1, 0) WHERE id = ? AND lease_owner = ? AND status = 'running'`,
      ).run(runId, owner);
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

  cancelRun(runId: number): void {
    this.transaction(() => {
      const run = this.requireRun(runId);
      if (TERMINAL_STATUSES.includes(run.status)) throw new StoreError('STORE_BAD_STATE', `run ${runId} is already ${run.status}`);
      const ids = run.kind === 'sweep' ? [runId, ...this.childIds(runId)] : [runId];
      for (const id of ids) {
        this.stmt(`UPDATE runs SET status = 'cancelled', finished_at = ?, lease_owner = NULL, lease_expires_at = NULL WHERE id = ? AND status IN ('queued','running')`).run(
          Date.now(),
          id,
        );
      }
      this.refreshParentOf(runId);
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

  /** Puts a failed or cancelled run back in the queue with a fresh attempt budget. */
  requeueRun(runId: number): void {
    this.transaction(() => {
      const run = this.requireRun(runId);
      if (run.status === 'running' || run.status === 'queued') throw new StoreError('STORE_BAD_STATE', `run ${runId} is ${run.status}; only finished runs can be re-queued`);
      this.stmt(`UPDATE runs SET status = 'queued', attempts = 0, error = NULL, finished_at = NULL WHERE id = ?`).run(runId);
      this.refreshParentOf(runId);
    });
  }

  archiveRun(runId: number, archived = true): void {
    this.requireRun(runId);
    this.stmt('UPDATE runs SET deleted_at = ? WHERE id = ? OR parent_run_id = ?').run(archived ? Date.now() : null, runId, runId);
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

  /** Params are write-once: re-logging the same value is fine, a different value is an error. */
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

  deleteTag(runId: number, key: string): void {
    this.stmt('DELETE FROM tags WHERE run_id = ? AND key = ?').run(runId, key);
  }

  getTags(runId: number): Record<string, string> {
    return Object.fromEntries((this.stmt('SELECT key, value FROM tags WHERE run_id = ? ORDER BY key').all(runId) as Row[]).map((r) => [r.key, r.value]));
  }

  // ---- metrics ----

  /** Appends points to the history and updates the latest table, in one transaction. */
  logMetrics(runId: number, points: MetricPoint[]): void {
    if (points.length === 0) return;
    const ins = this.stmt('INSERT INTO metrics (run_id, key, step, value, time) VALUES (?, ?, ?, ?, ?)');
    const latest = this.stmt(
      // The latest point moves only forward in steps; `points` counts every non-NaN point (NaN is NULL).
      // (SET expressions read the row as it was before the update.)
      `INSERT INTO metrics_latest (run_id, key, step, value, time, points) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id, key) DO UPDATE SET points = points + excluded.points,
         step = CASE WHEN excluded.step >= step THEN excluded.step ELSE step END,
         value = CASE WHEN excluded.step >= step THEN excluded.value ELSE value END,
         time = CASE WHEN excluded.step >= step THEN excluded.time ELSE time END`,
    );
    this.transaction(() => {
      const now = Date.now();
      for (const p of points) {
        const t = p.time ?? now;
        const v = encodeReal(p.value);
        ins.run(runId, p.key, p.step, v, t);
        latest.run(runId, p.key, p.step, v, t, v === null ? 0 : 1);
      }
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

  getLatestMetrics(runId: number): Record<string, { step: number; value: number; time: number }> {
    const rows = this.stmt('SELECT key, step, value, time FROM metrics_latest WHERE run_id = ? ORDER BY key').all(runId) as Row[];
    return Object.fromEntries(rows.map((r) => [r.key, { step: r.step, value: decodeReal(r.value), time: r.time }]));
  }

  metricKeys(runId: number): string[] {
    return (this.stmt('SELECT key FROM metrics_latest WHERE run_id = ? ORDER BY key').all(runId) as Row[]).map((r) => r.key);
  }

  /** Drops history after `step` (a resumed run re-logs the steps after its checkpoint). */
  truncateMetricsAfter(runId: number, step: number): void {
    this.transaction(() => {
      this.stmt('DELETE FROM metrics WHERE run_id = ? AND step > ?').run(runId, step);
      this.stmt('DELETE FROM metrics_latest WHERE run_id = ?').run(runId);
      this.stmt(
        `INSERT INTO metrics_latest (run_id, key, step, value, time, points)
         SELECT m.run_id, m.key, m.step, m.value, m.time,
                (SELECT count(m3.value) FROM metrics m3 WHERE m3.run_id = m.run_id AND m3.key = m.key) FROM metrics m
         WHERE m.run_id = ? AND m.rowid = (SELECT m2.rowid FROM metrics m2 WHERE m2.run_id = m.run_id AND m2.key = m.key ORDER BY m2.step DESC, m2.rowid DESC LIMIT 1)`,
      ).run(runId);
    });
  }

  // ---- evaluation ----

  /** Writes one fold's evaluation (metrics, curves, routing) in one transaction, replacing an earlier one. */
  recordEvaluation(runId: number, ev: EvaluationRecord): void {
    this.transaction(() => {
      for (const table of ['eval_metrics', 'curves', 'routing']) {
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
    });
  }

  getEvalMetrics(runId: number): { protocol: string; fold: string; metric: string; value: number; count: number | null }[] {
    return (this.stmt('SELECT protocol, fold, metric, value, count FROM eval_metrics WHERE run_id = ? ORDER BY protocol, fold, metric').all(runId) as Row[]).map(
      (r) => ({ protocol: r.protocol, fold: r.fold, metric: r.metric, value: decodeReal(r.value), count: r.count }),
    );
  }

  getCurves(runId: number): { protocol: string; fold: string; kind: 'roc' | 'cmc'; curve: Curve }[] {
    return (this.stmt('SELECT * FROM curves WHERE run_id = ? ORDER BY protocol, fold, kind').all(runId) as Row[]).map((r) => ({
      protocol: r.protocol,
      fold: r.fold,
      kind: r.kind,
      curve: { x: decodeArray(r.x_json), y: decodeArray(r.y_json), ...(r.thr_json ? { thr: decodeArray(r.thr_json) } : {}) },
    }));
  }

  getRouting(runId: number): ({ protocol: string; fold: string } & RoutingCount)[] {
    return this.stmt('SELECT protocol, fold, block, modality, expert, count FROM routing WHERE run_id = ? ORDER BY protocol, fold, block, modality, expert').all(
      runId,
    ) as ({ protocol: string; fold: string } & RoutingCount)[];
  }

  // ---- checkpoints and artifacts ----

  addCheckpoint(runId: number, step: number, path: string): void {
    this.stmt('INSERT INTO checkpoints (run_id, step, path, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (run_id, step) DO UPDATE SET path = excluded.path, created_at = excluded.created_at').run(
      runId,
      step,
      path,
      Date.now(),
    );
  }

  listCheckpoints(runId: number): CheckpointRecord[] {
    return (this.stmt('SELECT * FROM checkpoints WHERE run_id = ? ORDER BY step').all(runId) as Row[]).map((r) => ({
      id: r.id,
      runId: r.run_id,
      step: r.step,
      path: r.path,
      createdAt: r.created_at,
    }));
  }

  latestCheckpoint(runId: number): CheckpointRecord | undefined {
    return this.listCheckpoints(runId).at(-1);
  }

  /** Forgets checkpoint rows, in one transaction (checkpoint/retention.ts deletes the files after). */
  removeCheckpoints(runId: number, steps: number[]): void {
    this.transaction(() => {
      for (const step of steps) this.stmt('DELETE FROM checkpoints WHERE run_id = ? AND step = ?').run(runId, step);
    });
  }

  addArtifact(runId: number, kind: string, path: string): void {
    this.stmt('INSERT INTO artifacts (run_id, kind, path, created_at) VALUES (?, ?, ?, ?)').run(runId, kind, path, Date.now());
  }

  listArtifacts(runId: number): { kind: string; path: string; createdAt: number }[] {
    return (this.stmt('SELECT kind, path, created_at FROM artifacts WHERE run_id = ? ORDER BY id').all(runId) as Row[]).map((r) => ({
      kind: r.kind,
      path: r.path,
      createdAt: r.created_at,
    }));
  }
}

// JSON has no NaN/Infinity: curve arrays spell them as strings.
function encodeArray(a: number[]): string {
  return JSON.stringify(a.map((v) => (Number.isFinite(v) ? v : String(v))));
}
function decodeArray(s: string): number[] {
  return (JSON.parse(s) as (number | string)[]).map((v) => (typeof v === 'number' ? v : Number(v)));
}

export class MetricLogger {
  private buffer: MetricPoint[] = [];
  constructor(
    private readonly store: RunStore,
    private readonly runId: number,
    private readonly flushEvery: number,
  ) {}

  log(key: string, value: number, step: number): void {
    this.buffer.push({ key, value, step, time: Date.now() });
    if (this.buffer.length >= this.flushEvery) this.flush();
  }

  logMany(values: Record<string, number>, step: number): void {
    const time = Date.now();
    for (const [key, value] of Object.entries(values)) this.buffer.push({ key, value, step, time });
    if (this.buffer.length >= this.flushEvery) this.flush();
  }

  get pending(): number {
    return this.buffer.length;
  }

  flush(): void {
    if (this.buffer.length === 0) return;
    const points = this.buffer;
    this.buffer = [];
    this.store.logMetrics(this.runId, points);
  }
}
