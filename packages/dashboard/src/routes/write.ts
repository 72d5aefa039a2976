// Users' changes (access 'write'): tags, archive and restore (one run or a selection), cancel, launch.
// Every write publishes what changed on the live event stream, so other open tabs follow.
import type { FastifyInstance } from 'fastify';
import { apiError } from '../errors.ts';
import { ArchiveBody, BulkArchiveBody, BulkTagBody, LaunchBody, RunIdParams, TagBody, TagParams, parse } from '../schemas.ts';
import type { CancelOutcome } from '@ssmb/trainer';
import type { RouteDeps } from './deps.ts';

const write = { access: 'write' } as const;

export function registerWriteRoutes(app: FastifyInstance, d: RouteDeps, o: { cancel: (id: number) => Promise<CancelOutcome> }): void {
  const { store, feed } = d;
  const requireRun = async (id: number) => {
    if (!(await store.getRun(id))) throw apiError('RUN_NOT_FOUND', `Received id ${id}.`, 'params.id');
    return id;
  };
  const requireRuns = async (ids: number[]) => {
    const found = new Set((await store.listRuns({ ids, archived: 'include' })).map((r) => r.id));
    const missing = ids.filter((i) => !found.has(i));
    if (missing.length) throw apiError('RUN_NOT_FOUND', `Received ids ${missing.join(', ')}.`, 'body.ids');
  };
  const publishStates = async (ids: number[]) => {
    for (const run of await store.runStates(ids)) feed.publish({ type: 'run-updated', run });
  };

  app.put('/api/runs/:id/tags', { config: write }, async (req) => {
    const id = await requireRun(parse(RunIdParams, req.params, 'params').id);
    const body = parse(TagBody, req.body, 'body');
    await store.setTag(id, body.key, body.value);
    await publishStates([id]);
    return { runId: id, tags: await store.getTags(id) };
  });

  app.delete('/api/runs/:id/tags/:key', { config: write }, async (req) => {
    const { id, key } = parse(TagParams, req.params, 'params');
    await requireRun(id);
    await store.deleteTag(id, key);
    await publishStates([id]);
    return { runId: id, tags: await store.getTags(id) };
  });

  app.post('/api/runs/:id/archive', { config: write }, async (req) => {
    const id = await requireRun(parse(RunIdParams, req.params, 'params').id);
    const body = parse(ArchiveBody, req.body, 'body');
    await store.archiveRuns([id], body.archived);
    await publishStates([id]);
    return { runId: id, archived: body.archived };
  });

  app.post('/api/runs/:id/cancel', { config: write }, async (req) => {
    const id = await requireRun(parse(RunIdParams, req.params, 'params').id);
    // The store's cancel, then `scancel` for a run a Slurm task executes (launcher: what was asked of it).
    const { outcome, launcher } = await o.cancel(id);
    await publishStates([id]);
    return { runId: id, outcome, launcher, run: (await store.runStates([id]))[0] };
  });

  app.post('/api/runs/bulk/tags', { config: write }, async (req) => {
    const body = parse(BulkTagBody, req.body, 'body');
    await requireRuns(body.ids);
    await store.setTags(body.ids, body.key, body.value);
    await publishStates(body.ids);
    return { runIds: body.ids, key: body.key, value: body.value };
  });

  app.post('/api/runs/bulk/archive', { config: write }, async (req) => {
    const body = parse(BulkArchiveBody, req.body, 'body');
    await requireRuns(body.ids);
    await store.archiveRuns(body.ids, body.archived);
    await publishStates(body.ids);
    return { runIds: body.ids, archived: body.archived };
  });

  app.post('/api/launch', { config: write }, async (req, reply) => {
    const body = parse(LaunchBody, req.body, 'body');
    if (!d.launcher) throw apiError('LAUNCH_UNAVAILABLE');
    const result = await d.launcher(body);
    if (body.dryRun) return result; // nothing queued
    feed.publish({ type: 'runs-added', ids: result.sweepId ? [result.sweepId, ...result.runIds] : result.runIds });
    return reply.status(201).send(result);
  });
}
