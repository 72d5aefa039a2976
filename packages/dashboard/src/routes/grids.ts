// A paper table's grid through the tracking server (`ssmb reproduce --server URL`): on a cluster the
// server alone opens the store, so the client sends the grid's resolved configs and the server plans them
// against its runs (completed ones are kept, live ones waited for, failed ones re-queued), queues what is
// missing, and later answers the runs' states and results. Stale runs are re-queued by the server's own
// reaper, never by the client. The paths of every config are held to the server's roots, as on the
// Launch page; at most --max-sweep-runs entries per request.
//
//   POST /api/grids          { experiment, entries: [{ label, config }], dryRun? } (write)
//                            -> { before, runs: [{ runId, state, status }], launched, requeued, cancelled }
//   GET  /api/grids/runs     ?ids=1,2  the runs' states (lease owner only with the token) (read)
//   GET  /api/grids/results  ?ids=1,2  their evaluations (non-finite values as "NaN", "Infinity") and routing counts (read)
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  ConfigError, cancelStaleQueued, enqueuePlan, planGrid, summarisePlan, toWire, validateConfig, type Config, type GridEntry, type RunStore,
} from '@ssmb/trainer';
import { apiError } from '../errors.ts';
import { hasToken } from '../access.ts';
import { confine } from '../launch.ts';
import { parse } from '../schemas.ts';
import { WORKER_BODY_LIMIT } from '../defaults.ts';
import type { RouteDeps } from './deps.ts';

const GridBody = z
  .object({
    experiment: z.string().min(1).max(200),
    entries: z.array(z.object({ label: z.string().min(1).max(300), config: z.record(z.string(), z.unknown()) }).strict()).min(1),
    dryRun: z.boolean().optional(),
  })
  .strict();
const runId = z.coerce.number().int().min(1);
const IdsQuery = z
  .object({
    ids: z.preprocess((v) => (v === undefined || v === '' ? undefined : String(v).split(',').map((s) => s.trim()).filter(Boolean)), z.array(runId).min(1).max(5000)),
  })
  .strict();

export function registerGridRoutes(app: FastifyInstance, d: RouteDeps, store: RunStore): void {
  const requireIds = (query: unknown) => {
    const { ids } = parse(IdsQuery, query, 'query');
    const runs = store.listRuns({ ids, archived: 'include' });
    const found = new Set(runs.map((r) => r.id));
    const missing = ids.filter((i) => !found.has(i));
    if (missing.length) throw apiError('RUN_NOT_FOUND', `Received ids ${missing.join(', ')}.`, 'query.ids');
    const byId = new Map(runs.map((r) => [r.id, r]));
    return ids.map((i) => byId.get(i)!);
  };

  // The grid is large (full configs): the workers' body limit, not the page's 1 MiB.
  app.post('/api/grids', { config: { access: 'write' }, bodyLimit: WORKER_BODY_LIMIT }, async (req) => {
    const b = parse(GridBody, req.body, 'body');
    if (b.entries.length > d.maxSweepRuns) throw apiError('SWEEP_TOO_LARGE', `The grid has ${b.entries.length} runs; this server's limit is ${d.maxSweepRuns}.`, 'body.entries');
    const entries: GridEntry[] = [];
    const configOf = new Map<object, Config>(); // each entry's overrides object -> its checked config
    for (const [i, e] of b.entries.entries()) {
      const field = `body.entries.${i}.config`;
      let config: Config;
      try {
        config = validateConfig(e.config);
      } catch (err) {
        if (err instanceof ConfigError) throw apiError('UNKNOWN_CONFIG_KEY', err.message, field);
        throw err;
      }
      const overrides = {};
      configOf.set(overrides, confine(config, d.roots, store.dir, field));
      entries.push({ row: '', column: '', protocol: '', fold: '', label: e.label, overrides });
    }
    const result = store.transaction(() => {
      const plan = planGrid(entries, store.listRuns(), (o) => configOf.get(o)!);
      const before = summarisePlan(plan);
      if (b.dryRun) return { before, plan, launched: [] as number[], requeued: [] as number[], cancelled: [] as number[] };
      const experiment = b.experiment;
      const { launched, requeued } = enqueuePlan(store, plan, experiment);
      const cancelled = cancelStaleQueued(store, experiment, plan.map((p) => p.run!.id));
      return { before, plan, launched, requeued, cancelled };
    });
    if (result.launched.length) d.feed.publish({ type: 'runs-added', ids: result.launched });
    for (const run of store.runStates([...result.requeued, ...result.cancelled])) d.feed.publish({ type: 'run-updated', run });
    return {
      before: result.before,
      runs: result.plan.map((p) => ({ runId: p.run?.id ?? null, state: p.state, status: p.run?.status ?? null })),
      launched: result.launched,
      requeued: result.requeued,
      cancelled: result.cancelled,
    };
  });

  // Polled while the grid runs: no cached answers.
  app.get('/api/grids/runs', { config: { access: 'read', cache: false } }, async (req) => {
    const owners = hasToken(d.policy, req); // the worker's name only to those who may act on it
    return {
      runs: requireIds(req.query).map((r) => ({
        id: r.id, name: r.name, status: r.status, step: r.step, totalSteps: r.totalSteps, error: r.error, attempts: r.attempts,
        leaseOwner: owners ? r.leaseOwner : null, leaseExpiresAt: r.leaseExpiresAt, launcher: r.launcher, launcherJob: r.launcherJob, launcherTask: r.launcherTask,
      })),
    };
  });

  app.get('/api/grids/results', { config: { access: 'read' } }, async (req) => ({
    runs: requireIds(req.query).map((r) => ({
      id: r.id,
      evaluations: store.getEvalMetrics(r.id).map((e) => ({ ...e, value: toWire('', e.value) })),
      routing: store.getRouting(r.id),
    })),
  }));
}
