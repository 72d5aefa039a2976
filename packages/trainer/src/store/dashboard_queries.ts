// Read-only queries behind the results dashboard (packages/dashboard). They live here because the store
// module is the only place that speaks SQL; they read the schema of migrations.ts and never write.
// Statements are prepared once per database; every query is bounded (LIMIT, per-run lookups on the
// primary keys) so the API stays fast on stores with thousands of runs and millions of metric points.
import type Database from 'better-sqlite3';
import type { RunStatus } from './run_store.ts';

/** Run columns derived from config_json. Each lists JSON paths tried in order (first non-null wins). */
export const RUN_CONFIG_COLUMNS = {
  backbone: ['$.backbone.model'],
  numExperts: ['$.ssmb.numExperts'],
  protocol: ['$.dataset.protocol'],
  fold: ['$.dataset.fold'],
} as const;
export type RunConfigColumn = keyof typeof RUN_CONFIG_COLUMNS;

/** Per-fold evaluation metrics averaged over folds in the runs list. */
export const RUN_LIST_METRICS = ['rank1', 'tar_far_1e2', 'eer'] as const;

export const RUN_SORT_KEYS = [
  'id', 'name', 'status', 'created_at', 'started_at', 'finished_at', 'experiment', 'step',
  'backbone', 'numExperts', 'protocol', 'fold', ...RUN_LIST_METRICS,
] as const;
export type RunSortKey = (typeof RUN_SORT_KEYS)[number];

export interface RunListQuery {
  status?: RunStatus[];
  /** Substring matched against run name, experiment name, id and the derived config columns. */
  search?: string;
  experimentId?: number;
  /** Runs carrying this tag key (any value), or key=value. */
  tag?: string;
  includeArchived?: boolean;
  onlyArchived?: boolean;
  parentRunId?: number;
  sort?: RunSortKey;
  order?: 'asc' | 'desc';
  limit?: number;
  offset?: number;
}

export interface RunSummary {
  id: number;
  experimentId: number;
  experiment: string;
  parentRunId: number | null;
  name: string;
  kind: string;
  method: string | null;
  status: RunStatus;
  seed: number;
  engine: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  step: number;
  totalSteps: number | null;
  error: string | null;
  archived: boolean;
  backbone: string | null;
  numExperts: number | null;
  protocol: string | null;
  fold: string | null;
  tags: Record<string, string>;
  /** Mean over the run's evaluated folds (all protocols) of each RUN_LIST_METRICS key; null = not evaluated. */
  metrics: Record<string, number | null>;
}

export interface RunDetail extends RunSummary {
  config: unknown;
  codeVersion: string | null;
  initFrom: string | null;
  heartbeatAt: number | null;
  attempts: number;
  params: Record<string, string>;
}

export interface EvalRow {
  runId: number;
  protocol: string;
  fold: string;
  metric: string;
  /** NULL in the store encodes NaN; JSON has no NaN, so it stays null. */
  value: number | null;
  count: number | null;
}

export interface CurveRow {
  runId: number;
  protocol: string;
  fold: string;
  kind: 'roc' | 'cmc';
  /** Non-finite points (stored as strings, see run_store.ts encodeArray) come back as null. */
  x: Array<number | null>;
  y: Array<number | null>;
}

export interface RoutingRow {
  protocol: string;
  fold: string;
  block: string;
  modality: string;
  expert: number;
  count: number;
}

export interface FileRow {
  runId: number;
  kind: string;
  path: string;
  step: number | null;
  createdAt: number;
}

export interface MetricKeyInfo {
  key: string;
  lastStep: number;
  lastValue: number | null;
  /** When the last point was logged (ms); with lastStep it identifies a history's version. */
  lastTime: number;
}

export interface AblationPoint {
  protocol: string;
  /** The config value (JSON scalar) the runs share; null = key absent. */
  x: string | number | boolean | null;
  mean: number | null;
  std: number | null;
  /** Number of (run, fold) values behind mean and std. */
  n: number;
  runIds: number[];
}

export interface EvalByKeyRow {
  runId: number;
  x: string | number | boolean | null;
  method: string | null;
  protocol: string;
  fold: string;
  metric: string;
  value: number | null;
}

/** Which runs an ablation or table reads. */
export interface EvalScope {
  experimentId?: number;
  runIds?: number[];
  /** 'ssmb' | 'baseline': restrict to one method. */
  method?: string;
  includeArchived?: boolean;
}

export interface ActiveRunState {
  id: number;
  status: RunStatus;
  step: number;
  archived: boolean;
  /** Claims so far; a resumed run (new attempt) may have rewritten its metrics after the checkpoint. */
  attempts: number;
}

export interface MetricSeries {
  steps: number[];
  values: number[];
  /** Non-NaN points the store holds for this series (before downsampling). */
  total: number;
}

export interface MetricPointRow {
  rowid: number;
  runId: number;
  key: string;
  step: number;
  value: number | null;
}

/** Dotted config key (`ssmb.numExperts`) -> SQLite JSON path (`$.ssmb.numExperts`). */
export function configKeyPath(key: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(key)) {
    throw new Error(`config key "${key}" is not a dotted identifier like ssmb.numExperts`);
  }
  return `$.${key}`;
}

// One metric's non-NaN points; the covering index metrics(run_id, key, step, value) serves every read below.
const SERIES = 'run_id = ? AND key = ? AND value IS NOT NULL';
const IN_BUCKET = 'FROM metrics WHERE run_id = @run AND key = @key AND value IS NOT NULL AND step BETWEEN bk.s0 AND bk.s1';
// Per step-range bucket ([s0, s1] pairs in @bounds): the rowids of its first and last points (index
// seeks) and of its minimum and maximum (one index range scan each; SQLite takes a bare column from the
// row holding min()/max(), the first in step order on ties). The chosen rows are then read by rowid.
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

const coalescePaths = (paths: readonly string[]) => {
  const parts = paths.map((p) => `json_extract(r.config_json, '${p}')`);
  return parts.length === 1 ? parts[0] : `coalesce(${parts.join(', ')})`;
};

const DERIVED_SQL = Object.fromEntries(
  Object.entries(RUN_CONFIG_COLUMNS).map(([k, paths]) => [k, coalescePaths(paths)]),
) as Record<RunConfigColumn, string>;

const metricSql = (m: string) => `(SELECT avg(em.value) FROM eval_metrics em WHERE em.run_id = r.id AND em.metric = '${m}')`;

const SORT_SQL: Record<RunSortKey, string> = {
  id: 'r.id', name: 'r.name', status: 'r.status', created_at: 'r.created_at', started_at: 'r.started_at',
  finished_at: 'r.finished_at', experiment: 'e.name', step: 'r.step',
  backbone: DERIVED_SQL.backbone, numExperts: DERIVED_SQL.numExperts, protocol: DERIVED_SQL.protocol,
  fold: DERIVED_SQL.fold,
  ...(Object.fromEntries(RUN_LIST_METRICS.map((m) => [m, metricSql(m)])) as Record<(typeof RUN_LIST_METRICS)[number], string>),
};

const SUMMARY_COLUMNS = `
  r.id, r.experiment_id, e.name AS experiment, r.parent_run_id, r.name, r.kind, r.method, r.status, r.seed,
  r.engine, r.created_at, r.started_at, r.finished_at, r.step, r.total_steps, r.error, r.deleted_at,
  ${DERIVED_SQL.backbone} AS backbone, ${DERIVED_SQL.numExperts} AS num_experts,
  ${DERIVED_SQL.protocol} AS protocol, ${DERIVED_SQL.fold} AS fold`;

type Row = Record<string, unknown>;

function toSummary(row: Row): RunSummary {
  const scalar = (v: unknown) => (v === null || v === undefined ? null : String(v));
  const ne = row.num_experts;
  return {
    id: row.id as number,
    experimentId: row.experiment_id as number,
    experiment: row.experiment as string,
    parentRunId: (row.parent_run_id as number | null) ?? null,
    name: row.name as string,
    kind: row.kind as string,
    method: (row.method as string | null) ?? null,
    status: row.status as RunStatus,
    seed: row.seed as number,
    engine: (row.engine as string | null) ?? null,
    createdAt: row.created_at as number,
    startedAt: (row.started_at as number | null) ?? null,
    finishedAt: (row.finished_at as number | null) ?? null,
    step: row.step as number,
    totalSteps: (row.total_steps as number | null) ?? null,
    error: (row.error as string | null) ?? null,
    archived: row.deleted_at !== null && row.deleted_at !== undefined,
    backbone: scalar(row.backbone),
    numExperts: typeof ne === 'number' ? ne : ne == null ? null : Number(ne),
    protocol: scalar(row.protocol),
    fold: scalar(row.fold),
    tags: {},
    metrics: Object.fromEntries(RUN_LIST_METRICS.map((m) => [m, null])),
  };
}

export interface DashboardQueries {
  listRuns(q?: RunListQuery): { runs: RunSummary[]; total: number };
  getRun(id: number): RunDetail | undefined;
  runExists(id: number): boolean;
  configs(ids: number[]): Map<number, unknown>;
  experiments(): Array<{ id: number; name: string; description: string; runs: number }>;
  metricKeys(runId: number): MetricKeyInfo[];
  /**
   * One metric's history in step order, as columns, downsampled in SQL to at most `maxPoints` points:
   * the step range is cut into floor(maxPoints / 4) buckets and each keeps its first, last, minimum and
   * maximum point (ties: the earliest step), so spikes and the curve's ends survive. NaN values (stored
   * as NULL) are left out; `total` counts the points kept out of (all non-NaN points).
   */
  metricSeries(runId: number, key: string, maxPoints: number): MetricSeries;
  evalMetrics(runIds: number[]): EvalRow[];
  curves(runId: number, kind?: 'roc' | 'cmc'): CurveRow[];
  routing(runId: number): RoutingRow[];
  files(runId: number): FileRow[];
  /** Metric names present in eval_metrics (for pickers). */
  evalMetricNames(): string[];
  /** Dotted config keys seen in the newest runs' configs (scalar leaves only). */
  configKeys(sample?: number): string[];
  ablation(q: EvalScope & { metric: string; key: string }): AblationPoint[];
  evalByConfigKey(q: EvalScope & { metrics: string[]; key: string }): EvalByKeyRow[];
  /**
   * Changes whenever anything is written to the store: PRAGMA data_version counts other connections'
   * commits, total_changes() this connection's own writes. A cache key for responses.
   */
  dataVersion(): string;
  /** Change feed for server-sent events. */
  maxRunId(): number;
  maxMetricRowid(): number;
  metricPointsSince(rowid: number, limit: number): MetricPointRow[];
  runStates(ids: number[]): ActiveRunState[];
  /** Runs queued or running, plus any finished at or after `since` (ms). */
  liveRunStates(since: number): ActiveRunState[];
}

/** Build the dashboard's read-only queries over an open run store database. */
export function createDashboardQueries(db: Database.Database): DashboardQueries {
  const stmtCache = new Map<string, Database.Statement>();
  const stmt = (sql: string) => {
    let s = stmtCache.get(sql);
    if (!s) {
      s = db.prepare(sql);
      stmtCache.set(sql, s);
    }
    return s;
  };
  const idList = (ids: number[]) => {
    if (!ids.every((i) => Number.isSafeInteger(i))) throw new Error(`run ids must be integers, received ${ids.join(',')}`);
    return ids.length ? ids.join(',') : 'NULL';
  };

  function runFilter(q: RunListQuery): { where: string; params: unknown[] } {
    const clauses: string[] = [];
    const params: unknown[] = [];
    if (q.onlyArchived) clauses.push('r.deleted_at IS NOT NULL');
    else if (!q.includeArchived) clauses.push('r.deleted_at IS NULL');
    if (q.status?.length) {
      clauses.push(`r.status IN (${q.status.map(() => '?').join(',')})`);
      params.push(...q.status);
    }
    if (q.experimentId !== undefined) {
      clauses.push('r.experiment_id = ?');
      params.push(q.experimentId);
    }
    if (q.parentRunId !== undefined) {
      clauses.push('r.parent_run_id = ?');
      params.push(q.parentRunId);
    }
    if (q.tag) {
      const eq = q.tag.indexOf('=');
      if (eq > 0) {
        clauses.push('EXISTS (SELECT 1 FROM tags t WHERE t.run_id = r.id AND t.key = ? AND t.value = ?)');
        params.push(q.tag.slice(0, eq), q.tag.slice(eq + 1));
      } else {
        clauses.push('EXISTS (SELECT 1 FROM tags t WHERE t.run_id = r.id AND t.key = ?)');
        params.push(q.tag);
      }
    }
    if (q.search) {
      const like = `%${q.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      const fields = ['r.name', 'e.name', 'CAST(r.id AS TEXT)', 'r.status', 'r.method', ...Object.values(DERIVED_SQL)];
      clauses.push(`(${fields.map((f) => `${f} LIKE ? ESCAPE '\\'`).join(' OR ')})`);
      params.push(...fields.map(() => like));
    }
    return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
  }

  const scopeFilter = (q: EvalScope) => {
    const clauses = [q.includeArchived ? '1' : 'r.deleted_at IS NULL'];
    const params: unknown[] = [];
    if (q.method !== undefined) {
      clauses.push('r.method = ?');
      params.push(q.method);
    }
    if (q.experimentId !== undefined) {
      clauses.push('r.experiment_id = ?');
      params.push(q.experimentId);
    }
    if (q.runIds) clauses.push(`r.id IN (${idList(q.runIds)})`);
    return { where: clauses.join(' AND '), params };
  };

  // Tags and fold-averaged metrics of a page of runs in two queries (not one subquery per row and column).
  const withTagsAndMetrics = (runs: RunSummary[]): RunSummary[] => {
    if (runs.length === 0) return runs;
    const ids = JSON.stringify(runs.map((r) => r.id));
    const byId = new Map(runs.map((r) => [r.id, r]));
    const metricRows = stmt(
      `SELECT run_id, metric, avg(value) FROM eval_metrics WHERE run_id IN (SELECT value FROM json_each(?))
       AND metric IN (${RUN_LIST_METRICS.map((m) => `'${m}'`).join(',')}) GROUP BY run_id, metric`,
    ).raw(true).all(ids) as Array<[number, string, number | null]>;
    for (const [id, metric, value] of metricRows) byId.get(id)!.metrics[metric] = value;
    const tagRows = stmt('SELECT run_id, key, value FROM tags WHERE run_id IN (SELECT value FROM json_each(?)) ORDER BY run_id, key')
      .raw(true)
      .all(ids) as Array<[number, string, string]>;
    for (const [id, key, value] of tagRows) byId.get(id)!.tags[key] = value;
    return runs;
  };

  const decodeX = (v: unknown): string | number | boolean | null => (v === undefined ? null : (v as string | number | null));

  return {
    listRuns(q = {}) {
      const { where, params } = runFilter(q);
      const sort = SORT_SQL[q.sort ?? 'id'];
      if (!sort) throw new Error(`sort must be one of ${RUN_SORT_KEYS.join(', ')}, received ${q.sort}`);
      const order = q.order === 'asc' ? 'ASC' : 'DESC';
      const limit = Math.max(1, Math.min(q.limit ?? 100, 5000));
      const offset = Math.max(0, q.offset ?? 0);
      const from = 'FROM runs r JOIN experiments e ON e.id = r.experiment_id';
      const rows = stmt(
        `SELECT ${SUMMARY_COLUMNS} ${from} ${where} ORDER BY ${sort} IS NULL, ${sort} ${order}, r.id ${order} LIMIT ? OFFSET ?`,
      ).all(...params, limit, offset) as Row[];
      const total = (stmt(`SELECT count(*) AS n ${from} ${where}`).get(...params) as { n: number }).n;
      return { runs: withTagsAndMetrics(rows.map(toSummary)), total };
    },

    getRun(id) {
      const row = stmt(
        `SELECT ${SUMMARY_COLUMNS}, r.config_json, r.code_version, r.init_from, r.heartbeat_at, r.attempts
         FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE r.id = ?`,
      ).get(id) as Row | undefined;
      if (!row) return undefined;
      const [summary] = withTagsAndMetrics([toSummary(row)]);
      const params = stmt('SELECT key, value FROM params WHERE run_id = ? ORDER BY key').all(id) as Array<{ key: string; value: string }>;
      return {
        ...summary,
        config: JSON.parse(row.config_json as string),
        codeVersion: (row.code_version as string | null) ?? null,
        initFrom: (row.init_from as string | null) ?? null,
        heartbeatAt: (row.heartbeat_at as number | null) ?? null,
        attempts: row.attempts as number,
        params: Object.fromEntries(params.map((p) => [p.key, p.value])),
      };
    },

    runExists(id) {
      return stmt('SELECT 1 FROM runs WHERE id = ?').get(id) !== undefined;
    },

    configs(ids) {
      const rows = stmt(`SELECT id, config_json FROM runs WHERE id IN (${idList(ids)})`).all() as Array<{ id: number; config_json: string }>;
      return new Map(rows.map((r) => [r.id, JSON.parse(r.config_json)]));
    },

    experiments() {
      return stmt(
        `SELECT e.id, e.name, e.description, (SELECT count(*) FROM runs r WHERE r.experiment_id = e.id) AS runs
         FROM experiments e ORDER BY e.id`,
      ).all() as Array<{ id: number; name: string; description: string; runs: number }>;
    },

    metricKeys(runId) {
      return (stmt('SELECT key, step, value, time FROM metrics_latest WHERE run_id = ? ORDER BY key').all(runId) as Row[]).map((r) => ({
        key: r.key as string,
        lastStep: r.step as number,
        lastValue: (r.value as number | null) ?? null,
        lastTime: r.time as number,
      }));
    },

    metricSeries(runId, key, maxPoints) {
      if (!Number.isInteger(maxPoints) || maxPoints < 4) {
        throw new RangeError(`metricSeries: maxPoints must be an integer >= 4, received ${maxPoints}`);
      }
      // The count is kept in metrics_latest and the step range comes from two index seeks: no scan here.
      const [total, lo, hi] = stmt(
        `SELECT (SELECT points FROM metrics_latest WHERE run_id = @run AND key = @key),
                (SELECT min(step) FROM metrics WHERE run_id = @run AND key = @key AND value IS NOT NULL),
                (SELECT max(step) FROM metrics WHERE run_id = @run AND key = @key AND value IS NOT NULL)`,
      ).raw(true).get({ run: runId, key }) as [number | null, number, number];
      const rows =
        (total ?? 0) <= maxPoints
          ? stmt(`SELECT step, value FROM metrics WHERE ${SERIES} ORDER BY step`).raw(true).all(runId, key)
          : stmt(DOWNSAMPLE_SQL).raw(true).all({ run: runId, key, bounds: JSON.stringify(stepBuckets(lo, hi, Math.floor(maxPoints / 4))) });
      const steps: number[] = [];
      const values: number[] = [];
      for (const [step, value] of rows as Array<[number, number]>) {
        steps.push(step);
        values.push(value);
      }
      return { steps, values, total: total ?? 0 };
    },

    evalMetrics(runIds) {
      return (
        stmt(
          `SELECT run_id, protocol, fold, metric, value, count FROM eval_metrics WHERE run_id IN (${idList(runIds)})
           ORDER BY run_id, protocol, fold, metric`,
        ).all() as Row[]
      ).map((r) => ({
        runId: r.run_id as number,
        protocol: r.protocol as string,
        fold: r.fold as string,
        metric: r.metric as string,
        value: (r.value as number | null) ?? null,
        count: (r.count as number | null) ?? null,
      }));
    },

    curves(runId, kind) {
      const rows = (
        kind
          ? stmt('SELECT * FROM curves WHERE run_id = ? AND kind = ? ORDER BY protocol, fold').all(runId, kind)
          : stmt('SELECT * FROM curves WHERE run_id = ? ORDER BY kind, protocol, fold').all(runId)
      ) as Row[];
      return rows.map((r) => ({
        runId: r.run_id as number,
        protocol: r.protocol as string,
        fold: r.fold as string,
        kind: r.kind as 'roc' | 'cmc',
        x: curveArray(r.x_json as string),
        y: curveArray(r.y_json as string),
      }));
    },

    routing(runId) {
      return stmt(
        'SELECT protocol, fold, block, modality, expert, count FROM routing WHERE run_id = ? ORDER BY protocol, fold, block, modality, expert',
      ).all(runId) as RoutingRow[];
    },

    files(runId) {
      const rows = stmt(
        `SELECT run_id, 'checkpoint' AS kind, path, step, created_at FROM checkpoints WHERE run_id = ?
         UNION ALL SELECT run_id, kind, path, NULL AS step, created_at FROM artifacts WHERE run_id = ?
         ORDER BY created_at`,
      ).all(runId, runId) as Row[];
      return rows.map((r) => ({
        runId: r.run_id as number,
        kind: r.kind as string,
        path: r.path as string,
        step: (r.step as number | null) ?? null,
        createdAt: r.created_at as number,
      }));
    },

    evalMetricNames() {
      // DISTINCT over the (protocol, metric) index: no table scan.
      return (stmt('SELECT DISTINCT metric FROM eval_metrics ORDER BY metric').raw(true).all() as Array<[string]>).map((r) => r[0]);
    },

    configKeys(sample = 50) {
      const rows = stmt('SELECT config_json FROM runs ORDER BY id DESC LIMIT ?').raw(true).all(sample) as Array<[string]>;
      const keys = new Set<string>();
      const walk = (v: unknown, prefix: string) => {
        if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
          for (const [k, c] of Object.entries(v)) walk(c, prefix ? `${prefix}.${k}` : k);
        } else if (prefix) keys.add(prefix);
      };
      for (const [json] of rows) walk(JSON.parse(json), '');
      return [...keys].sort();
    },

    ablation(q) {
      const path = configKeyPath(q.key);
      const scope = scopeFilter(q);
      // Sample std over (run, fold) values: sqrt((sum x^2 - n mean^2) / (n - 1)). NULL (NaN) values are skipped.
      const rows = stmt(
        `SELECT em.protocol, json_extract(r.config_json, ?) AS x, avg(em.value) AS mean,
                sum(em.value * em.value) AS sq, count(em.value) AS n, group_concat(DISTINCT r.id) AS ids
         FROM eval_metrics em JOIN runs r ON r.id = em.run_id
         WHERE em.metric = ? AND ${scope.where}
         GROUP BY em.protocol, x ORDER BY em.protocol, x`,
      ).all(path, q.metric, ...scope.params) as Row[];
      return rows.map((r) => {
        const n = r.n as number;
        const mean = (r.mean as number | null) ?? null;
        const variance = n > 1 && mean !== null ? Math.max(0, ((r.sq as number) - n * mean * mean) / (n - 1)) : null;
        return {
          protocol: r.protocol as string,
          x: decodeX(r.x),
          mean,
          std: n === 1 ? 0 : variance === null ? null : Math.sqrt(variance),
          n,
          runIds: String(r.ids ?? '')
            .split(',')
            .filter(Boolean)
            .map(Number)
            .sort((a, b) => a - b),
        };
      });
    },

    evalByConfigKey(q) {
      const path = configKeyPath(q.key);
      const scope = scopeFilter(q);
      // The config is parsed once per run (materialized CTE driving the join), not once per evaluation row.
      const rows = stmt(
        `WITH rx AS MATERIALIZED (SELECT r.id, r.method, json_extract(r.config_json, ?) AS x FROM runs r WHERE ${scope.where})
         SELECT em.run_id, rx.x, rx.method, em.protocol, em.fold, em.metric, em.value
         FROM rx CROSS JOIN eval_metrics em ON em.run_id = rx.id
         WHERE em.metric IN (${q.metrics.map(() => '?').join(',') || 'NULL'})
         ORDER BY rx.x, em.protocol, em.fold, em.run_id`,
      ).raw(true).all(path, ...scope.params, ...q.metrics) as Array<[number, unknown, string | null, string, string, string, number | null]>;
      return rows.map(([runId, x, method, protocol, fold, metric, value]) => ({ runId, x: decodeX(x), method, protocol, fold, metric, value }));
    },

    dataVersion() {
      const [changes] = stmt('SELECT total_changes()').raw(true).get() as [number];
      return `${db.pragma('data_version', { simple: true }) as number}.${changes}`;
    },

    maxRunId() {
      return ((stmt('SELECT max(id) FROM runs').raw(true).get() as [number | null])[0] ?? 0) as number;
    },

    maxMetricRowid() {
      return ((stmt('SELECT max(rowid) FROM metrics').raw(true).get() as [number | null])[0] ?? 0) as number;
    },

    metricPointsSince(rowid, limit) {
      return (
        stmt('SELECT rowid, run_id, key, step, value FROM metrics WHERE rowid > ? ORDER BY rowid LIMIT ?').raw(true).all(rowid, limit) as Array<
          [number, number, string, number, number | null]
        >
      ).map(([rid, runId, key, step, value]) => ({ rowid: rid, runId, key, step, value }));
    },

    runStates(ids) {
      return (stmt(`SELECT id, status, step, deleted_at, attempts FROM runs WHERE id IN (${idList(ids)})`).all() as Row[]).map(toState);
    },

    liveRunStates(since) {
      // runs_status index covers the queued/running part; finished runs are few per poll window.
      return (
        stmt(
          `SELECT id, status, step, deleted_at, attempts FROM runs WHERE status IN ('queued','running')
           UNION SELECT id, status, step, deleted_at, attempts FROM runs WHERE finished_at >= ?`,
        ).all(since) as Row[]
      ).map(toState);
    },
  };
}

function toState(r: Row): ActiveRunState {
  return { id: r.id as number, status: r.status as RunStatus, step: r.step as number, archived: r.deleted_at != null, attempts: r.attempts as number };
}

function curveArray(json: string): Array<number | null> {
  return (JSON.parse(json) as Array<number | string>).map((v) => (typeof v === 'number' ? v : null));
}
