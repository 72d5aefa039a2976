// Versioned schema of the run store. Append a migration to change the schema; never edit a shipped one.
// The pinned schema test (schema.test.ts) fails whenever the resulting schema changes.
//
// Tables (all times are milliseconds since the Unix epoch, REAL):
//   schema_version  (version)                       one row: the applied migration version.
//   experiments     (id, name UNIQUE, description, created_at)
//   runs            (id, experiment_id, parent_run_id -> runs.id for sweep children, name,
//                    kind 'train'|'pretrain'|'evaluate'|'sweep'|'noop', method: a registered method
//                    name (v7; checked by the config schema, the methods registry) or NULL,
//                    status 'queued'|'running'|'completed'|'failed'|'cancelled',
//                    config_json (full resolved config), seed, engine (tf backend used), code_version
//                    (git commit or package version), init_from (weights file a run starts from),
//                    created_at, started_at, finished_at, heartbeat_at, lease_owner, lease_expires_at,
//                    attempts, max_attempts, step (last step done), total_steps, error, deleted_at
//                    (archived when not NULL), cancel_requested_at (v4: a user asked to cancel the
//                    running run; its worker checkpoints, stops and marks it cancelled),
//                    lease_epoch (v5: claims ever made, never reset: the worker API's "attempt"
//                    that stamps every write), launcher / launcher_job / launcher_task (v5: what
//                    executes the run: 'local' | 'slurm' | 'k8s', e.g. Slurm array job 1234, task 5)).
//   params          (run_id, key, value TEXT)       write-once: a different value for a key is an error.
//   tags            (run_id, key, value TEXT)       mutable.
//   metrics         (run_id, key, step, value, time) append-only per-step history; index
//                    (run_id, key, step, value) covers history reads and the dashboard's downsampling (v2).
//   metrics_latest  (run_id, key, step, value, time, points, min_value, max_value) last value logged per
//                    (run, key); points = non-NaN values in that history (v3), so the dashboard's totals
//                    need no count scan; min_value/max_value = its extremes (v4, "best" beside "last").
//   eval_metrics    (run_id, protocol, fold, metric, value, count) count = number of comparisons
//                    behind the value (impostor comparisons for tar@far metrics, probes for rank-k).
//   curves          (run_id, protocol, fold, kind 'roc'|'cmc', x_json, y_json, thr_json) arrays of points;
//                    roc: x = FAR, y = TAR, thr = thresholds; cmc: x = rank, y = identification rate.
//   routing         (run_id, protocol, fold, block, modality, expert, count) images per expert (gallery
//                    and probe images; evaluations recorded before v4 counted probes only).
//   score_histograms (run_id, protocol, fold, lo, hi, genuine_json, impostor_json, genuine_outside,
//                    impostor_outside) v6: per evaluation the genuine and impostor scores counted on equal-width
//                    bins over [lo, hi]; *_outside = scores past the range or NaN (nothing dropped).
//   embedding_samples (run_id, protocol, fold, dim, gallery_total, probe_total, subjects_total, points_json,
//                    vectors) v6: a bounded sample of the fold's gallery and probe embeddings (whole identities):
//                    points_json = [[role, subject, modality], ...], vectors = float32 little-endian rows;
//                    *_total = what the fold had, so a page says how many were sampled of how many.
//   worker_writes   (run_id, epoch, seq, op, applied_at) v5: the worker API's idempotency ledger: one row per
//                    write batch entry a remote worker sent (run, lease epoch, the worker's sequence
//                    number); an entry sent again after a network error is acknowledged, not re-applied.
//                    op is the op's type; `metrics@<n>` while a large metrics op is stored in slices (n
//                    points so far), `metrics` once it is complete.
//   checkpoints     (id, run_id, step, path, created_at)
//   artifacts       (id, run_id, kind, path, created_at) e.g. score files, pre-trained weights.
//                    Paths inside the store's folder are stored relative to it (v4), so a copied or
//                    moved store still finds its files; others stay absolute.
//
// Numbers: SQLite has no NaN, so in every REAL value column NULL encodes NaN (see encodeReal /
// decodeReal in run_store.ts); +-Infinity are stored as native REALs.

import { existsSync } from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { toStoredPath } from './entities.ts';

export interface Migration {
  version: number;
  description: string;
  sql: string;
  /** A data step after `sql`, in the same transaction (it may need the store's folder). */
  data?: (db: Database.Database, ctx: { storeDir: string }) => void;
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'initial schema: experiments, runs, params, tags, metrics, evaluation, curves, routing, checkpoints',
    sql: `
CREATE TABLE experiments (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL DEFAULT '',
  created_at REAL NOT NULL
);
CREATE TABLE runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  experiment_id INTEGER NOT NULL REFERENCES experiments(id),
  parent_run_id INTEGER REFERENCES runs(id),
  name TEXT NOT NULL DEFAULT '',
  kind TEXT NOT NULL CHECK (kind IN ('train','pretrain','evaluate','sweep','noop')),
  method TEXT CHECK (method IN ('ssmb','baseline')),
  status TEXT NOT NULL CHECK (status IN ('queued','running','completed','failed','cancelled')),
  config_json TEXT NOT NULL,
  seed INTEGER NOT NULL,
  engine TEXT,
  code_version TEXT,
  init_from TEXT,
  created_at REAL NOT NULL,
  started_at REAL,
  finished_at REAL,
  heartbeat_at REAL,
  lease_owner TEXT,
  lease_expires_at REAL,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL DEFAULT 3,
  step INTEGER NOT NULL DEFAULT 0,
  total_steps INTEGER,
  error TEXT,
  deleted_at REAL
);
CREATE INDEX runs_status ON runs(status, id);
CREATE INDEX runs_parent ON runs(parent_run_id);
CREATE INDEX runs_experiment ON runs(experiment_id, created_at);
CREATE INDEX runs_created ON runs(created_at);
CREATE TABLE params (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE TABLE tags (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE TABLE metrics (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  step INTEGER NOT NULL,
  value REAL,
  time REAL NOT NULL
);
CREATE INDEX metrics_run_key_step ON metrics(run_id, key, step);
CREATE TABLE metrics_latest (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  step INTEGER NOT NULL,
  value REAL,
  time REAL NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE TABLE eval_metrics (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  protocol TEXT NOT NULL,
  fold TEXT NOT NULL,
  metric TEXT NOT NULL,
  value REAL,
  count INTEGER,
  PRIMARY KEY (run_id, protocol, fold, metric)
) WITHOUT ROWID;
CREATE INDEX eval_metrics_protocol ON eval_metrics(protocol, metric);
CREATE TABLE curves (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  protocol TEXT NOT NULL,
  fold TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('roc','cmc')),
  x_json TEXT NOT NULL,
  y_json TEXT NOT NULL,
  thr_json TEXT,
  PRIMARY KEY (run_id, protocol, fold, kind)
) WITHOUT ROWID;
CREATE TABLE routing (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  protocol TEXT NOT NULL,
  fold TEXT NOT NULL,
  block TEXT NOT NULL,
  modality TEXT NOT NULL,
  expert INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (run_id, protocol, fold, block, modality, expert)
) WITHOUT ROWID;
CREATE TABLE checkpoints (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step INTEGER NOT NULL,
  path TEXT NOT NULL,
  created_at REAL NOT NULL,
  UNIQUE (run_id, step)
);
CREATE TABLE artifacts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  path TEXT NOT NULL,
  created_at REAL NOT NULL
);
CREATE INDEX artifacts_run ON artifacts(run_id);
`,
  },
  {
    version: 2,
    description: 'metrics index covers value: downsampled histories are read from the index alone',
    sql: `
DROP INDEX metrics_run_key_step;
CREATE INDEX metrics_run_key_step_value ON metrics(run_id, key, step, value);
`,
  },
  {
    version: 3,
    description: 'metrics_latest.points: how many non-NaN points each history holds',
    sql: `
ALTER TABLE metrics_latest ADD COLUMN points INTEGER NOT NULL DEFAULT 0;
UPDATE metrics_latest SET points = (SELECT count(m.value) FROM metrics m WHERE m.run_id = metrics_latest.run_id AND m.key = metrics_latest.key);
`,
  },
  {
    version: 4,
    description: 'cancel requests; metric extremes in metrics_latest; checkpoint and artifact paths relative to the store',
    sql: `
ALTER TABLE runs ADD COLUMN cancel_requested_at REAL;
ALTER TABLE metrics_latest ADD COLUMN min_value REAL;
ALTER TABLE metrics_latest ADD COLUMN max_value REAL;
UPDATE metrics_latest SET
  min_value = (SELECT min(m.value) FROM metrics m WHERE m.run_id = metrics_latest.run_id AND m.key = metrics_latest.key),
  max_value = (SELECT max(m.value) FROM metrics m WHERE m.run_id = metrics_latest.run_id AND m.key = metrics_latest.key);
`,
    data: relativizeFilePaths,
  },
  {
    version: 5,
    description: 'worker API: lease epochs, the idempotency ledger of remote workers, and what executes each run (launcher, job, task)',
    sql: `
ALTER TABLE runs ADD COLUMN lease_epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN launcher TEXT;
ALTER TABLE runs ADD COLUMN launcher_job TEXT;
ALTER TABLE runs ADD COLUMN launcher_task TEXT;
UPDATE runs SET lease_epoch = attempts;
CREATE INDEX runs_launcher_job ON runs(launcher_job) WHERE launcher_job IS NOT NULL;
CREATE TABLE worker_writes (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  epoch INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  op TEXT NOT NULL,
  applied_at REAL NOT NULL,
  PRIMARY KEY (run_id, epoch, seq)
) WITHOUT ROWID;
`,
  },
  {
    version: 6,
    description: 'per evaluation: genuine/impostor score histograms on fixed bins and a bounded sample of gallery and probe embeddings',
    sql: `
CREATE TABLE score_histograms (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  protocol TEXT NOT NULL,
  fold TEXT NOT NULL,
  lo REAL NOT NULL,
  hi REAL NOT NULL,
  genuine_json TEXT NOT NULL,
  impostor_json TEXT NOT NULL,
  genuine_outside INTEGER NOT NULL,
  impostor_outside INTEGER NOT NULL,
  PRIMARY KEY (run_id, protocol, fold)
) WITHOUT ROWID;
CREATE TABLE embedding_samples (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  protocol TEXT NOT NULL,
  fold TEXT NOT NULL,
  dim INTEGER NOT NULL,
  gallery_total INTEGER NOT NULL,
  probe_total INTEGER NOT NULL,
  subjects_total INTEGER NOT NULL,
  points_json TEXT NOT NULL,
  vectors BLOB NOT NULL,
  PRIMARY KEY (run_id, protocol, fold)
);
`,
  },
  {
    version: 7,
    description: 'runs.method holds any registered method (the methods registry checks the name): the CHECK on two names is dropped',
    sql: '',
    data: dropMethodCheck,
  },
];

const METHOD_CHECK = "method TEXT CHECK (method IN ('ssmb','baseline'))";

/**
 * v7 data step: SQLite cannot drop a CHECK constraint with ALTER TABLE, and rebuilding `runs` would
 * cascade-delete every child row (foreign keys are on). A CHECK constraint does not change how rows are
 * stored, so its text is removed from the schema itself (the procedure SQLite's ALTER TABLE
 * documentation gives for such changes: writable_schema, then a new schema version), in the migration's
 * transaction.
 */
function dropMethodCheck(db: Database.Database): void {
  const row = db.prepare(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'runs'`).get() as { sql: string } | undefined;
  if (!row?.sql.includes(METHOD_CHECK)) throw new Error(`store migration 7: the runs table does not hold the expected \`${METHOD_CHECK}\`; the store was changed by hand`);
  const version = db.pragma('schema_version', { simple: true }) as number;
  db.unsafeMode(true);
  try {
    db.pragma('writable_schema = ON');
    db.prepare(`UPDATE sqlite_master SET sql = replace(sql, ?, 'method TEXT') WHERE type = 'table' AND name = 'runs'`).run(METHOD_CHECK);
    db.pragma(`schema_version = ${version + 1}`);
    db.pragma('writable_schema = OFF');
  } finally {
    db.unsafeMode(false);
  }
}

/**
 * v4 data step: absolute checkpoint/artifact paths inside the store's folder become relative to it.
 * A store already copied elsewhere still holds its old absolute paths: a path of the default layout
 * `<old folder>/artifacts/run-<id>/<rest>` whose file exists under this folder is rewritten too.
 */
function relativizeFilePaths(db: Database.Database, { storeDir }: { storeDir: string }): void {
  for (const table of ['checkpoints', 'artifacts']) {
    const rows = db.prepare(`SELECT id, run_id, path FROM ${table}`).all() as Array<{ id: number; run_id: number; path: string }>;
    const update = db.prepare(`UPDATE ${table} SET path = ? WHERE id = ?`);
    for (const r of rows) {
      if (!path.isAbsolute(r.path)) continue;
      let stored = toStoredPath(r.path, storeDir);
      if (path.isAbsolute(stored)) {
        const m = new RegExp(`[\\/]artifacts[\\/]run-${r.run_id}([\\/].*)?$`).exec(r.path);
        const moved = m && path.join('artifacts', `run-${r.run_id}`, m[1] ?? '');
        if (moved && existsSync(path.join(storeDir, moved))) stored = moved;
      }
      if (stored !== r.path) update.run(stored, r.id);
    }
  }
}

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;
