// Write endpoints: tags, archive, launch. The auth hook in server.ts guards them with the token.
import type { FastifyInstance } from 'fastify';
import { apiError } from './errors.ts';
import { ArchiveBody, LaunchBody, RunIdParams, TagBody, TagParams, parse, type LaunchRequest } from './schemas.ts';
import type { DashboardStore } from './store.ts';
import type { ChangeFeed } from './events.ts';

export interface LaunchResult {
  /** Queued runs (the sweep's children for a sweep). */
  runIds: number[];
  /** The sweep's parent run, for a sweep. */
  sweepId?: number;
}

/** Queues a run or a sweep; throws ApiError for bad overrides or grids. */
export type Launcher = (req: LaunchRequest) => Promise<LaunchResult>;

interface Deps {
  data: DashboardStore;
  feed: ChangeFeed;
  launcher?: Launcher;
}

export function registerWriteRoutes(app: FastifyInstance, { data, feed, launcher }: Deps): void {
  const { store, queries } = data;
  const requireRun = (params: unknown) => {
    const { id } = parse(RunIdParams, params, 'params');
    if (!queries.runExists(id)) throw apiError('RUN_NOT_FOUND', `Received id ${id}.`, 'params.id');
    return id;
  };
  const tagsOf = (id: number) => queries.getRun(id)!.tags;

  app.put('/api/runs/:id/tags', async (req) => {
    const id = requireRun(req.params);
    const body = parse(TagBody, req.body, 'body');
    store.setTag(id, body.key, body.value);
    return { runId: id, tags: tagsOf(id) };
  });

  app.delete('/api/runs/:id/tags/:key', async (req) => {
    const { id, key } = parse(TagParams, req.params, 'params');
    if (!queries.runExists(id)) throw apiError('RUN_NOT_FOUND', `Received id ${id}.`, 'params.id');
    store.deleteTag(id, key);
    return { runId: id, tags: tagsOf(id) };
  });

  app.post('/api/runs/:id/archive', async (req) => {
    const id = requireRun(req.params);
    const body = parse(ArchiveBody, req.body, 'body');
    store.archiveRun(id, body.archived);
    const [state] = queries.runStates([id]);
    feed.publish({ type: 'run-updated', run: state });
    return { runId: id, archived: state.archived };
  });

  app.post('/api/launch', async (req, reply) => {
    const body = parse(LaunchBody, req.body, 'body');
    if (!launcher) throw apiError('INTERNAL', 'This server was started without a launcher.');
    const result = await launcher(body);
    feed.publish({ type: 'runs-added', ids: result.sweepId ? [result.sweepId, ...result.runIds] : result.runIds });
    return reply.status(201).send(result);
  });
}
