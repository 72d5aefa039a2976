// Read endpoints (GET, access 'read'). Open on loopback; from other hosts of an exposed server they need
// the token (access.ts). Downloads (artifact files, table exports) also take a signed link.
import type { FastifyInstance } from 'fastify';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import {
  CONFIG_PATH_KEYS, EVAL_ENGINE_TAG, TAG_NOT_APPLICABLE, TRAIN_ENGINE_TAG, TRAIN_FALLBACK_TAG, TRAIN_PROVIDER_TAG, TRAIN_THREADS_TAG, LAUNCHABLE_KINDS, RUN_LIST_METRICS, RUN_STATUSES, configKeyApplies, runConvergence, defaultConfig, flattenConfigValues, metricBetter, metricGroup, metricUnit,
  toCsv, toLatex, toMarkdown, matchableRuns, type PaperTable, type RunSummary,
  configValueAt,
} from '@ssmb/trainer';
import { apiError } from '../errors.ts';

/** A number as JSON can carry it: non-finite ones as the strings "NaN", "Infinity", "-Infinity". */
const wireNumber = (v: number): number | string => (Number.isFinite(v) ? v : String(v));
import { hasToken } from '../access.ts';
import { resolveArtifact, runPlaces } from '../artifacts.ts';
import { FEW_FALSE_ACCEPTS, falseAcceptsAt, configDiff, groupCurves, metricSpecs, orderMetrics, paperTableFromEvals, stats, summarizeEvals, thinRoc, valueLabel, varyingKeys } from '../analysis.ts';
import {
  AblationQuery, ArtifactQuery, CompareQuery, CurvesQuery, EmbeddingSampleQuery, EvalCurvesQuery, GroupedCurvesQuery, ParallelQuery, RunGroupsQuery, RunIdParams, RunListQuery, TableQuery, parse,
} from '../schemas.ts';
import { compareGroups } from '../compare_groups.ts';
import { apartKeys, configOf, applyFilter, checkKeys, defaultGroupKeys, groupable, groupableScan, groupRuns, parseFilter, sortGroups, type GroupableRun, type RunGroup } from '../run_groups.ts';
import { LruCache } from '../cache.ts';
import { describeTable, listTableConfigs, tableFromConfig } from '../table_configs.ts';
import type { RouteDeps } from './deps.ts';
import { DEFAULT_TABLE_METRICS, WIDE_TABLE_CELLS } from '../defaults.ts';

const read = { access: 'read' } as const;


/** Legend labels for a set of runs: the config values that tell them apart (at most three keys), else #id. */
function runLabels(ids: number[], diff: ReturnType<typeof configDiff>): Record<number, string> {
  const keys = diff.map((d) => d.key).filter((k) => !(k in CONFIG_PATH_KEYS) && k !== 'seed').slice(0, 3);
  return Object.fromEntries(
    ids.map((id) => {
      const parts = keys.map((k) => `${k.split('.').at(-1)}=${diff.find((d) => d.key === k)!.values[id] ?? '–'}`);
      return [id, parts.length ? `#${id} ${parts.join(' ')}` : `#${id}`];
    }),
  );
}

/**
 * What ran, from what the run recorded: the tf backend (runs.engine), the training engine with its
 * provider and threads (train.* tags) and the evaluation engine (eval.engine tag). Null = not recorded.
 */
function enginesOf(backend: string | null, tags: Record<string, string>) {
  const tag = (k: string) => (tags[k] && tags[k] !== TAG_NOT_APPLICABLE ? tags[k] : null);
  return {
    backend,
    train: tag(TRAIN_ENGINE_TAG),
    provider: tag(TRAIN_PROVIDER_TAG),
    threads: tag(TRAIN_THREADS_TAG),
    fallback: tag(TRAIN_FALLBACK_TAG),
    eval: tag(EVAL_ENGINE_TAG),
  };
}

/**
 * A runs-list row: what the table shows, without the fields only the run page needs (code version,
 * lease bookkeeping, init file), so a page of 200 runs stays small.
 */
function listRow(r: RunSummary) {
  const latest: Record<string, { step: number; value: number; points: number; min: number; max: number }> = {};
  for (const k in r.latest) {
    const m = r.latest[k];
    latest[k] = { step: m.step, value: m.value, points: m.points, min: m.min, max: m.max };
  }
  return {
    id: r.id, experimentName: r.experimentName, parentRunId: r.parentRunId, name: r.name, kind: r.kind, method: r.method, status: r.status,
    createdAt: r.createdAt, startedAt: r.startedAt, finishedAt: r.finishedAt, leaseExpiresAt: r.leaseExpiresAt, attempts: r.attempts, step: r.step,
    totalSteps: r.totalSteps, error: r.error, cancelRequestedAt: r.cancelRequestedAt, archived: r.archived, stale: r.stale, backbone: r.backbone,
    numExperts: r.numExperts, protocol: r.protocol, fold: r.fold, tags: r.tags, metrics: r.metrics, latest,
    launcher: r.launcher, launcherJob: r.launcherJob, launcherTask: r.launcherTask, // the runs list names the Slurm job and task
  };
}

export function registerReadRoutes(app: FastifyInstance, d: RouteDeps): void {
  const { store } = d;
  const requireRun = async (params: unknown) => {
    const { id } = parse(RunIdParams, params, 'params');
    if (!(await store.getRun(id))) throw apiError('RUN_NOT_FOUND', `Received id ${id}.`, 'params.id');
    return id;
  };

  app.get('/api', { config: read }, async () => ({ endpoints: d.endpoints() }));

  app.get('/api/meta', { config: read }, async () => {
    const evalMetrics = orderMetrics(await store.evalMetricNames());
    const tables = listTableConfigs(d.tablesDir);
    return {
      store: store.location,
      experiments: await store.listExperiments(),
      evalMetrics,
      metricSpecs: metricSpecs([...new Set([...evalMetrics, ...RUN_LIST_METRICS])]),
      configKeys: await store.configKeys(),
      listMetrics: RUN_LIST_METRICS,
      launchKinds: LAUNCHABLE_KINDS,
      runStatuses: RUN_STATUSES,
      tableConfigs: tables.configs.map(describeTable),
      limits: { maxSweepRuns: d.maxSweepRuns },
      tables: { defaultMetrics: DEFAULT_TABLE_METRICS, wideCells: WIDE_TABLE_CELLS },
      roots: d.roots,
      auth: { writeTokenRequired: d.policy.token !== null, exposed: d.policy.exposed },
    };
  });

  app.get('/api/config-keys', { config: read }, async () => {
    const defaults = flattenConfigValues(defaultConfig());
    return {
      keys: Object.entries(defaults).map(([key, value]) => ({
        key,
        default: value,
        type: Array.isArray(value) ? 'list' : value === null ? 'nullable' : typeof value,
        ...(key in CONFIG_PATH_KEYS ? { path: CONFIG_PATH_KEYS[key as keyof typeof CONFIG_PATH_KEYS] } : {}),
      })),
    };
  });

  /**
   * Every run a filter selects, with config and metrics (filters on config keys and metrics run here): the
   * store's scan, which sends each distinct configuration once (`by`: keys grouped by stay in it).
   */
  const scopeRuns = async (f: { status?: RunSummary['status'][]; search?: string; tag?: string; experiment?: number; archived: 'exclude' | 'include' | 'only'; ids?: number[]; where?: string }, by?: string[]) => {
    const filter = { status: f.status, search: f.search, tag: f.tag, experimentId: f.experiment, archived: f.archived, ids: f.ids };
    const tags = parseFilter(f.where ?? '').terms.some((t) => t.key.startsWith('tag.')); // tags only for a filter on one
    return groupableScan(await store.scanRuns(filter, apartKeys(by), { tags }));
  };
  // Sorted groups of one query (all pages) while the store is unchanged: scrolling the runs list reads
  // page after page of the same grouping, which is computed once.
  const groupCache = new LruCache<{ version: string; by: string[]; runsTotal: number; groups: RunGroup[] }>(8);
  /** Structured terms filter in JS; free words narrow like the search box (every word must match). */
  const filtered = (runs: GroupableRun[], where: string | undefined) => {
    const f = parseFilter(where ?? '');
    const words = f.text.map((w) => w.toLowerCase());
    const hay = (r: GroupableRun) =>
      [r.summary.id, r.summary.name, r.summary.experimentName, r.summary.status, r.summary.method, r.summary.kind, r.summary.protocol, r.summary.backbone, r.summary.fold].join(' ').toLowerCase();
    return applyFilter(runs, f).filter((r) => words.every((w) => hay(r).includes(w)));
  };

  app.get('/api/runs', { config: read }, async (req) => {
    const p = parse(RunListQuery, req.query, 'query');
    // A structured filter picks the runs in JS over their configs and metrics; the page is then read as usual.
    let ids = p.ids;
    let search = p.search;
    const where = parseFilter(p.where ?? '');
    if (where.terms.length || where.text.length > 1) {
      const runs = filtered(await scopeRuns(p), p.where);
      ids = runs.map((r) => r.summary.id);
      if (ids.length === 0) return { total: 0, runs: [] };
    } else if (where.text.length === 1) search = where.text[0]; // one word: the SQL search, no scan
    const page = await store.queryRuns({
      ids,
      status: p.status,
      search,
      tag: p.tag,
      experimentId: p.experiment,
      parentRunId: p.parent,
      archived: p.archived,
      sort: p.sort,
      order: p.order,
      limit: p.limit,
      offset: p.offset,
      latestKeys: p.latest ?? ['loss'],
    });
    // which way each "last · best" column is better, from the trainer's metric keys (one source)
    const latestBetter = Object.fromEntries((p.latest ?? ['loss']).map((k) => [k, metricBetter(k)]));
    if (!p.columns?.length || page.runs.length === 0) return { total: page.total, latestBetter, runs: page.runs.map(listRow) };
    const configs = groupable(await store.listRuns({ ids: page.runs.map((r) => r.id), archived: 'include' }), page.runs);
    const values = new Map(configs.map((g) => [g.summary.id, Object.fromEntries(p.columns!.map((k) => [k, configOf(g, k)]))]));
    return { total: page.total, latestBetter, runs: page.runs.map((r) => ({ ...listRow(r), values: values.get(r.id) ?? {} })) };
  });

  app.get('/api/runs/groups', { config: read }, async (req) => {
    const p = parse(RunGroupsQuery, req.query, 'query');
    const version = String(await store.dataVersion());
    const { offset, limit, ...query } = p;
    const cacheKey = JSON.stringify(query);
    let hit = groupCache.get(cacheKey);
    if (!hit || hit.version !== version) {
      const runs = filtered(await scopeRuns(p, p.by), p.where);
      const by = p.by ?? defaultGroupKeys(runs);
      if (p.by) checkKeys(p.by, runs, 'query.by', 'group key');
      hit = { version, by, runsTotal: runs.length, groups: sortGroups(groupRuns(runs, by), p.sort, p.order) };
      groupCache.set(cacheKey, hit);
    }
    return { by: hit.by, defaultBy: !p.by, runsTotal: hit.runsTotal, total: hit.groups.length, groups: hit.groups.slice(offset, offset + limit) };
  });

  app.get('/api/runs/:id', { config: read }, async (req) => {
    const id = await requireRun(req.params);
    const [record, page, params, latest, evals, files] = await Promise.all([
      store.getRun(id), store.queryRuns({ ids: [id], archived: 'include', latestKeys: [] }), store.getParams(id), store.getLatestMetrics(id),
      store.listEvalMetrics([id]), store.listFiles(id),
    ]);
    const metricKeys = Object.values(latest).map((m) => ({ ...m, group: metricGroup(m.key), better: metricBetter(m.key), unit: metricUnit(m.key) }));
    const run = record!;
    // The convergence criterion for an SSMB training run: the fixed-pair loss change over the last fifth (with why
    // when it cannot be measured) and the minibatch figure beside it; null for runs that train no SSMB.
    const steps = Number((run.config as { steps?: unknown }).steps);
    const convergence = run.kind === 'train' && run.method === 'ssmb' && Number.isInteger(steps) && steps > 0 ? await runConvergence(store, id, steps) : null;
    // Lease details only for requests with the token: the epoch never (workers stamp it on their writes),
    // the worker's name only to those who may act on it.
    const { leaseEpoch: _epoch, leaseOwner, ...summary } = page.runs[0] as typeof page.runs[0] & { leaseEpoch?: number };
    return {
      run: { ...summary, leaseOwner: hasToken(d.policy, req) ? leaseOwner : null, config: run.config, params },
      convergence,
      /** Config keys this run does not use (a baseline trains nothing, pre-training reads pretrain.*). */
      inapplicable: run.kind === 'sweep' ? [] : Object.keys(flattenConfigValues(run.config)).filter((k) => !configKeyApplies(k, run)),
      metricKeys,
      evaluations: evals.map((e) => {
        const falseAccepts = falseAcceptsAt(e.metric, e.count);
        return { ...e, falseAccepts, fewFalseAccepts: falseAccepts !== null && falseAccepts < FEW_FALSE_ACCEPTS };
      }),
      summary: summarizeEvals(evals),
      engines: enginesOf(run.engine, page.runs[0].tags),
      files: files.map(({ path: _abs, ...f }) => f),
    };
  });

  app.get('/api/runs/:id/metrics', { config: read }, async (req) => {
    const id = await requireRun(req.params);
    const p = parse(CurvesQuery, req.query, 'query');
    const keys = p.keys ?? (await store.metricKeys(id));
    // Downsampled in SQL (first/last/min/max per step bucket): a long history costs index reads, not JS.
    // JSON has no +-Infinity: they travel as "Infinity" / "-Infinity" (as on the workers' routes), never as null.
    const series = await Promise.all(
      keys.map(async (key) => {
        const s = await store.metricSeries(id, key, p.maxPoints);
        return { key, total: s.total, nan: s.nan, plotted: s.steps.length, steps: s.steps, values: s.values.map(wireNumber) };
      }),
    );
    return { runId: id, maxPoints: p.maxPoints, series };
  });

  app.get('/api/runs/:id/curves', { config: read }, async (req) => {
    const id = await requireRun(req.params);
    const p = parse(EvalCurvesQuery, req.query, 'query');
    return {
      runId: id,
      curves: (await store.getCurves(id, p.kind)).map((c) => {
        const pts = c.kind === 'roc' ? thinRoc(c.curve.x, c.curve.y) : { x: c.curve.x, y: c.curve.y };
        return { protocol: c.protocol, fold: c.fold, kind: c.kind, total: c.curve.x.length, x: pts.x, y: pts.y };
      }),
    };
  });

  app.get('/api/runs/:id/routing', { config: read }, async (req) => {
    const id = await requireRun(req.params);
    return { runId: id, routing: await store.getRouting(id) };
  });

  app.get('/api/runs/:id/scores', { config: read }, async (req) => {
    const id = await requireRun(req.params);
    return { runId: id, histograms: await store.getScoreHistograms(id) };
  });

  app.get('/api/runs/:id/embeddings', { config: read }, async (req) => {
    const id = await requireRun(req.params);
    return { runId: id, samples: await store.listEmbeddingSamples(id) };
  });

  app.get('/api/runs/:id/embeddings/sample', { config: read }, async (req) => {
    const id = await requireRun(req.params);
    const p = parse(EmbeddingSampleQuery, req.query, 'query');
    const s = await store.getEmbeddingSample(id, p.protocol, p.fold);
    if (!s) return { runId: id, sample: null };
    // Float32 little-endian rows in base64: a quarter of the bytes JSON numbers would take.
    const { vectors, ...rest } = s;
    const buf = Buffer.alloc(vectors.length * 4);
    vectors.forEach((v, i) => buf.writeFloatLE(v, i * 4));
    return { runId: id, sample: { ...rest, vectors: buf.toString('base64') } };
  });

  app.get('/api/runs/:id/artifacts', { config: read }, async (req) => {
    const id = await requireRun(req.params);
    return { runId: id, files: (await store.listFiles(id)).map(({ path: _abs, ...f }) => f) };
  });

  app.get('/api/runs/:id/artifact', { config: { ...read, cache: false, signedLinks: true } }, async (req, reply) => {
    const id = await requireRun(req.params);
    const p = parse(ArtifactQuery, req.query, 'query');
    const run = (await store.getRun(id))!;
    const file = resolveArtifact(p.path, store.dir, runPlaces(run, store.dir), d.storeFiles, (await store.listFiles(id)).map((f) => f.path));
    return reply
      .type(/\.(txt|scores|csv)$/.test(file) ? 'text/plain; charset=utf-8' : 'application/octet-stream')
      .header('content-disposition', `attachment; filename="${path.basename(file).replace(/[^\w.-]/g, '_')}"`)
      .send(createReadStream(file));
  });

  app.get('/api/compare', { config: read }, async (req) => {
    const p = parse(CompareQuery, req.query, 'query');
    const ids = [...new Set(p.ids ?? [])];
    if (ids.length < 2) throw apiError('TOO_FEW_RUNS', `Received ${ids.length}.`, 'query.ids');
    const records = await store.listRuns({ ids, archived: 'include' });
    const missing = ids.filter((i) => !records.some((r) => r.id === i));
    if (missing.length) throw apiError('RUN_NOT_FOUND', `Received ids ${missing.join(', ')}.`, 'query.ids');
    const page = await store.queryRuns({ ids, archived: 'include', limit: ids.length, latestKeys: [] });
    const runs = ids.map((i) => page.runs.find((r) => r.id === i)!);
    const diff = configDiff(new Map(records.map((r) => [r.id, r.config])));
    const latest = Object.fromEntries(await Promise.all(ids.map(async (i) => [i, Object.values(await store.getLatestMetrics(i)).map((m) => ({ ...m, group: metricGroup(m.key), better: metricBetter(m.key) }))] as const)));
    const evals = await store.listEvalMetrics(ids);
    // Runs of one configuration (differing only in fold and seed, or equal on the keys `by` names) are one group.
    const gruns = groupable(records, runs);
    const perRun = p.by?.join() === 'none';
    if (p.by && !perRun) checkKeys(p.by, gruns, 'query.by', 'group key');
    const groups = perRun
      ? gruns.map((r) => ({ ...groupRuns([r], [])[0], key: `#${r.summary.id}`, label: `#${r.summary.id} ${r.summary.name}` }))
      : groupRuns(gruns, p.by ?? defaultGroupKeys(gruns));
    const compared = compareGroups(groups, evals);
    return {
      runs, labels: runLabels(ids, diff), configDiff: diff, summary: summarizeEvals(evals), latest,
      groups: groups.map((g) => ({ key: g.key, label: g.label, runIds: g.runIds, folds: g.folds, seeds: g.seeds, protocol: g.protocol })),
      groupSummary: compared.summary, ranking: compared.ranking,
    };
  });

  app.get('/api/curves', { config: read }, async (req) => {
    const p = parse(GroupedCurvesQuery, req.query, 'query');
    const ids = [...new Set(p.ids ?? [])];
    if (ids.length === 0) throw apiError('VALIDATION', 'query.ids: pass the runs to draw, e.g. ?ids=1,2,3', 'query.ids');
    const records = await store.listRuns({ ids, archived: 'include' });
    const missing = ids.filter((i) => !records.some((r) => r.id === i));
    if (missing.length) throw apiError('RUN_NOT_FOUND', `Received ids ${missing.join(', ')}.`, 'query.ids');
    const span = await store.metricStepRange(ids, p.key);
    if (!span) return { key: p.key, by: p.by ?? null, groups: [], missing: ids };
    const range = { ...span, buckets: Math.min(p.buckets, span.hi - span.lo + 1) };
    const means = await store.metricBucketMeans(ids, p.key, range);
    const byId = new Map(records.map((r) => [r.id, r]));
    const groups = groupCurves(means, range, (id) => (p.by ? valueLabel(p.by, configValueAt(byId.get(id)!.config, p.by)) : `#${id}`));
    return { key: p.key, by: p.by ?? null, groups, missing: means.filter((m) => m.means.size === 0).map((m) => m.runId) };
  });

  app.get('/api/ablation', { config: read }, async (req) => {
    const p = parse(AblationQuery, req.query, 'query');
    // A key no run has would put every run at "(unset)": one pooled point that looks like a result.
    const known = new Set([...Object.keys(flattenConfigValues(defaultConfig())), ...(await store.configKeys())]);
    for (const [field, k] of [['query.key', p.key], ['query.by', p.by]] as const) {
      if (k !== undefined && !known.has(k)) throw apiError('BAD_FILTER', `Received ${field.slice(6)} "${k}": no run has this config key (GET /api/config-keys lists them).`, field);
    }
    const scope = { experimentId: p.experiment, runIds: p.ids, includeArchived: p.archived === 'include' };
    const points = await store.ablation({ ...scope, metric: p.metric, key: p.key, by: p.by, method: p.method });
    // The frozen baseline of each protocol, drawn as a reference line: from the same experiment when
    // it has one, else from the whole store.
    let baselineScope: 'experiment' | 'store' = 'experiment';
    let baselines = await store.ablation({ ...scope, metric: p.metric, key: 'method', method: 'baseline' });
    if (baselines.length === 0 && p.experiment !== undefined) {
      baselines = await store.ablation({ ...scope, experimentId: undefined, metric: p.metric, key: 'method', method: 'baseline' });
      baselineScope = 'store';
    }
    return { metric: p.metric, key: p.key, by: p.by ?? null, points, baselines: baselines.map(({ x: _x, ...b }) => b), baselineScope };
  });

  app.get('/api/parallel', { config: read }, async (req) => {
    const p = parse(ParallelQuery, req.query, 'query');
    const rows = await store.evalByConfigKey({
      metrics: [p.metric], key: 'method', method: p.method, experimentId: p.experiment, runIds: p.ids, includeArchived: p.archived === 'include',
    });
    const protocols = [...new Set(rows.map((r) => r.protocol))].sort();
    // By default the protocol with the most evaluated runs (a lone pre-training run compares with nothing).
    const runsOn = (proto: string) => new Set(rows.filter((r) => r.protocol === proto).map((r) => r.runId)).size;
    const protocol = p.protocol ?? [...protocols].sort((a, b) => runsOn(b) - runsOn(a) || a.localeCompare(b))[0];
    const byRun = new Map<number, number[]>();
    for (const r of rows) if (r.protocol === protocol) byRun.set(r.runId, [...(byRun.get(r.runId) ?? []), r.value]);
    const ids = [...byRun.keys()];
    const records = ids.length ? await store.listRuns({ ids, archived: 'include', sort: 'id', order: 'asc' }) : [];
    // A key's value only where it applies: a frozen baseline has no number of experts (n/a on that axis).
    const applied = records.map((r) => {
      const flat = flattenConfigValues(r.config);
      return Object.fromEntries(Object.entries(flat).map(([k, v]) => [k, configKeyApplies(k, r) ? v : null]));
    });
    const candidates = varyingKeys(applied);
    const keys = p.keys ?? candidates.slice(0, 8);
    return {
      metric: p.metric,
      protocol: protocol ?? null,
      protocols,
      keys,
      candidates,
      runs: records.map((r, i) => {
        const s = stats(byRun.get(r.id)!);
        return { id: r.id, name: r.name, status: r.status, n: s?.n ?? 0, value: s?.mean ?? null, values: Object.fromEntries(keys.map((k) => [k, applied[i][k] ?? null])) };
      }),
    };
  });

  app.get('/api/table-configs', { config: read }, async () => {
    const { configs, errors } = listTableConfigs(d.tablesDir);
    return { dir: d.tablesDir, configs: configs.map(describeTable), errors };
  });

  app.get('/api/tables', { config: { ...read, signedLinks: true } }, async (req, reply) => {
    const p = parse(TableQuery, req.query, 'query');
    const scope = { experimentId: p.experiment, runIds: p.ids, method: p.method, includeArchived: p.archived === 'include' };
    let table: PaperTable | null = null;
    // Without a table config that matches, rows are the number of experts (the frozen baseline and other
    // runs the key does not apply to are rows of their own): grouping by method would merge N = 1, 2, 4.
    const rowsKey = p.rows ?? 'ssmb.numExperts';
    let source: { config: string } | { rows: string } = { rows: rowsKey };
    const { configs } = listTableConfigs(d.tablesDir);
    // A table config by name; by default the quickstart's (`synthetic`) or the first config that
    // matches runs of the store, else rows grouped by method.
    const wanted = p.config ? configs.filter((c) => c.config.name === p.config) : p.rows ? [] : [...configs].sort((a, b) => Number(b.config.name === 'synthetic') - Number(a.config.name === 'synthetic') || a.config.name.localeCompare(b.config.name));
    if (p.config && wanted.length === 0) throw apiError('TABLE_NOT_FOUND', `Received "${p.config}"; known: ${configs.map((c) => c.config.name).join(', ') || 'none'}.`, 'query.config');
    if (wanted.length) {
      const records = await store.listRuns({ experimentId: scope.experimentId, ids: scope.runIds, archived: p.archived, sort: 'id', order: 'asc' });
      const inScope = records.filter((r) => !scope.method || r.method === scope.method);
      const runs = matchableRuns(inScope, await store.listEvalMetrics(inScope.map((r) => r.id)));
      for (const c of wanted) {
        const built = await tableFromConfig(c, runs);
        if (built.matched > 0 || p.config) {
          table = built.table;
          source = { config: c.config.name };
          break;
        }
      }
    }
    if (!table && !p.config) {
      const metrics = p.metrics ?? DEFAULT_TABLE_METRICS;
      const rows = await store.evalByConfigKey({ ...scope, metrics, key: rowsKey });
      if (rows.length) {
        try {
          table = paperTableFromEvals(rows, rowsKey, metrics, `Results by ${rowsKey} (mean ± std over folds)`);
        } catch (err) {
          throw apiError('VALIDATION', (err as Error).message, 'query.metrics');
        }
      }
    }
    if (p.format === 'json') return { source, table };
    if (!table) throw apiError('NO_RESULTS', 'No evaluated run matches these filters.');
    const [type, ext, text] =
      p.format === 'csv' ? ['text/csv', 'csv', toCsv(table)] : p.format === 'md' ? ['text/markdown', 'md', toMarkdown(table)] : ['application/x-latex', 'tex', toLatex(table, { perMetric: p.layout === 'per-metric' || (p.layout === 'auto' && table.columns.length * table.metrics.length > WIDE_TABLE_CELLS) })];
    return reply.type(`${type}; charset=utf-8`).header('content-disposition', `attachment; filename="${table.name}.${ext}"`).send(text);
  });

  app.get('/api/events', { config: { ...read, cache: false } }, (req, reply) => {
    const client = req.socket.remoteAddress ?? req.ip;
    d.feed.admit(client); // refused as a normal error answer, before the response is taken over
    reply.hijack();
    d.feed.attach(reply.raw, client);
  });
}
