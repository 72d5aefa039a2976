// Read endpoints (GET). Open on loopback; from other hosts they need the token (see auth.ts).
import type { FastifyInstance } from 'fastify';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { apiError } from './errors.ts';
import { resolveArtifact } from './artifacts.ts';
import { configDiff, metricSpecs, paperTableFromEvals, summarizeEvals, thinRoc } from './analysis.ts';
import { AblationQuery, ArtifactQuery, CompareQuery, CurvesQuery, EvalCurvesQuery, RunIdParams, RunListQuery, TableQuery, parse } from './schemas.ts';
import { RUN_LIST_METRICS, toCsv, toLatex, toMarkdown, type DashboardStore } from './store.ts';
import type { ChangeFeed } from './events.ts';
import type { AuthPolicy } from './auth.ts';

interface Deps {
  data: DashboardStore;
  feed: ChangeFeed;
  artifactRoots: string[];
  policy: AuthPolicy;
}

export const ENDPOINTS = [
  'GET /api/meta', 'GET /api/runs', 'GET /api/runs/:id', 'GET /api/runs/:id/metrics', 'GET /api/runs/:id/curves',
  'GET /api/runs/:id/routing', 'GET /api/runs/:id/artifacts', 'GET /api/runs/:id/artifact?path=', 'GET /api/compare?ids=',
  'GET /api/ablation', 'GET /api/tables', 'GET /api/events', 'PUT /api/runs/:id/tags', 'DELETE /api/runs/:id/tags/:key',
  'POST /api/runs/:id/archive', 'POST /api/launch',
];

export function registerReadRoutes(app: FastifyInstance, { data, feed, artifactRoots, policy }: Deps): void {
  const q = data.queries;
  const requireRun = (params: unknown) => {
    const { id } = parse(RunIdParams, params, 'params');
    if (!q.runExists(id)) throw apiError('RUN_NOT_FOUND', `Received id ${id}.`, 'params.id');
    return id;
  };

  app.get('/api', async () => ({ endpoints: ENDPOINTS }));

  app.get('/api/meta', async () => ({
    store: data.store.file,
    experiments: q.experiments(),
    evalMetrics: q.evalMetricNames(),
    metricSpecs: metricSpecs([...new Set([...q.evalMetricNames(), ...RUN_LIST_METRICS])]),
    configKeys: q.configKeys(),
    listMetrics: RUN_LIST_METRICS,
    auth: { writeTokenRequired: policy.token !== null, exposed: policy.exposed },
  }));

  app.get('/api/runs', async (req) => {
    const p = parse(RunListQuery, req.query, 'query');
    return q.listRuns({
      status: p.status,
      search: p.search,
      tag: p.tag,
      experimentId: p.experiment,
      parentRunId: p.parent,
      includeArchived: p.archived === 'include',
      onlyArchived: p.archived === 'only',
      sort: p.sort,
      order: p.order,
      limit: p.limit,
      offset: p.offset,
    });
  });

  app.get('/api/runs/:id', async (req) => {
    const id = requireRun(req.params);
    const run = q.getRun(id)!;
    const evals = q.evalMetrics([id]);
    return { run, metricKeys: q.metricKeys(id), evaluations: evals, summary: summarizeEvals(evals), files: q.files(id) };
  });

  app.get('/api/runs/:id/metrics', async (req) => {
    const id = requireRun(req.params);
    const p = parse(CurvesQuery, req.query, 'query');
    const keys = p.keys ?? q.metricKeys(id).map((k) => k.key);
    // Downsampled in SQL (first/last/min/max per step bucket): a long history costs index reads, not JS.
    const out = keys.map((key) => {
      const d = q.metricSeries(id, key, p.maxPoints);
      return { key, total: d.total, plotted: d.steps.length, steps: d.steps, values: d.values };
    });
    return { runId: id, maxPoints: p.maxPoints, series: out };
  });

  app.get('/api/runs/:id/curves', async (req) => {
    const id = requireRun(req.params);
    const p = parse(EvalCurvesQuery, req.query, 'query');
    return {
      runId: id,
      curves: q.curves(id, p.kind).map((c) => {
        const pts = c.kind === 'roc' ? thinRoc(c.x, c.y) : { x: c.x as number[], y: c.y as number[] };
        return { protocol: c.protocol, fold: c.fold, kind: c.kind, total: c.x.length, x: pts.x, y: pts.y };
      }),
    };
  });

  app.get('/api/runs/:id/routing', async (req) => {
    const id = requireRun(req.params);
    return { runId: id, routing: q.routing(id) };
  });

  app.get('/api/runs/:id/artifacts', async (req) => {
    const id = requireRun(req.params);
    return { runId: id, files: q.files(id) };
  });

  app.get('/api/runs/:id/artifact', async (req, reply) => {
    const id = requireRun(req.params);
    const p = parse(ArtifactQuery, req.query, 'query');
    const file = resolveArtifact(p.path, artifactRoots, q.files(id).map((f) => f.path));
    return reply
      .type(file.endsWith('.txt') || file.endsWith('.scores') || file.endsWith('.csv') ? 'text/plain; charset=utf-8' : 'application/octet-stream')
      .header('content-disposition', `attachment; filename="${path.basename(file).replace(/[^\w.-]/g, '_')}"`)
      .send(createReadStream(file));
  });

  app.get('/api/compare', async (req) => {
    const p = parse(CompareQuery, req.query, 'query');
    const ids = [...new Set(p.ids ?? [])];
    if (ids.length < 2) throw apiError('TOO_FEW_RUNS', `Received ${ids.length}.`, 'query.ids');
    const missing = ids.filter((i) => !q.runExists(i));
    if (missing.length) throw apiError('RUN_NOT_FOUND', `Received ids ${missing.join(', ')}.`, 'query.ids');
    const configs = q.configs(ids);
    const runs = ids.map((i) => q.getRun(i)!).map(({ config: _c, params: _p, ...rest }) => rest);
    return { runs, configDiff: configDiff(configs), summary: summarizeEvals(q.evalMetrics(ids)) };
  });

  app.get('/api/ablation', async (req) => {
    const p = parse(AblationQuery, req.query, 'query');
    const points = q.ablation({ metric: p.metric, key: p.key, experimentId: p.experiment, runIds: p.ids, method: p.method, includeArchived: p.archived === 'include' });
    return { metric: p.metric, key: p.key, points };
  });

  app.get('/api/tables', async (req, reply) => {
    const p = parse(TableQuery, req.query, 'query');
    const metrics = p.metrics ?? ['rank1', 'tar_far_1e2', 'eer'];
    const rows = q.evalByConfigKey({
      metrics,
      key: p.rows === 'method' ? 'method' : p.rows,
      experimentId: p.experiment,
      runIds: p.ids,
      method: p.method,
      includeArchived: p.archived === 'include',
    });
    if (rows.length === 0) {
      if (p.format === 'json') return { rowsKey: p.rows, table: null };
      throw apiError('NO_RESULTS', 'No evaluated run matches these filters.');
    }
    const title = `Results by ${p.rows} (mean ± std over folds)`;
    let table;
    try {
      table = paperTableFromEvals(rows, p.rows, metrics, title);
    } catch (err) {
      throw apiError('VALIDATION', (err as Error).message, 'query.metrics');
    }
    if (p.format === 'json') return { rowsKey: p.rows, table };
    const [type, ext, text] =
      p.format === 'csv' ? ['text/csv', 'csv', toCsv(table)] : p.format === 'md' ? ['text/markdown', 'md', toMarkdown(table)] : ['application/x-latex', 'tex', toLatex(table)];
    return reply.type(`${type}; charset=utf-8`).header('content-disposition', `attachment; filename="ssmb-table.${ext}"`).send(text);
  });

  app.get('/api/events', (req, reply) => {
    reply.hijack();
    feed.attach(reply.raw);
  });
}
