// Write endpoints, token enforcement and server-sent events, against a real temporary run store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildServer, type DashboardServer } from './server.ts';
import { storeLauncher } from './launch.ts';
import { seedStore, type SeededStore } from './testing/seed.ts';
import { RunStore, protocolFoldNames } from '@ssmb/trainer';

let root: string;
let seeded: SeededStore;
let open: DashboardServer; // loopback, no token
let exposed: DashboardServer; // bound to 0.0.0.0: token required

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'ssmb-dash-write-'));
  seeded = seedStore(path.join(root, 'store'));
  const common = { store: seeded.store, webRoot: path.join(root, 'no-web') };
  open = await buildServer({ ...common, host: '127.0.0.1' });
  exposed = await buildServer({ ...common, host: '0.0.0.0', pollMs: 60_000 });
});
afterAll(async () => {
  await open.app.close();
  await exposed.app.close();
  seeded.store.close();
  rmSync(root, { recursive: true, force: true });
});

const json = (r: { body: string }) => JSON.parse(r.body);

describe('tokens', () => {
  it('generates a token only for non-loopback hosts', () => {
    expect(open.policy.token).toBeNull();
    expect(exposed.policy.token).toMatch(/^[\w-]{32}$/);
  });

  it('exposed server: writes need the token, wrong token is 401, right token works', async () => {
    const id = seeded.runs.get('2/synthetic-vis-nir/1')!;
    const put = (headers: Record<string, string>) =>
      exposed.app.inject({ method: 'PUT', url: `/api/runs/${id}/tags`, payload: { key: 'best', value: 'yes' }, headers });
    const none = await put({});
    expect(none.statusCode).toBe(401);
    expect(json(none).error.code).toBe('TOKEN_REQUIRED');
    expect(json(none).error.message).toMatch(/Authorization: Bearer/);
    expect((await put({ authorization: 'Bearer wrong' })).statusCode).toBe(401);
    const ok = await put({ authorization: `Bearer ${exposed.policy.token}` });
    expect(ok.statusCode).toBe(200);
    expect(json(ok).tags).toMatchObject({ best: 'yes' });
  });

  it('exposed server: reads are open from loopback, need the token from other hosts', async () => {
    expect((await exposed.app.inject({ url: '/api/runs?limit=1' })).statusCode).toBe(200);
    const remote = await exposed.app.inject({ url: '/api/runs?limit=1', remoteAddress: '10.1.2.3' });
    expect(remote.statusCode).toBe(401);
    expect(json(remote).error.code).toBe('TOKEN_REQUIRED');
    const header = await exposed.app.inject({ url: '/api/runs?limit=1', remoteAddress: '10.1.2.3', headers: { authorization: `Bearer ${exposed.policy.token}` } });
    expect(header.statusCode).toBe(200);
    // Never in the URL: a token in the query string is refused (with a pointer to the header), not accepted.
    const inUrl = await exposed.app.inject({ url: `/api/runs?limit=1&token=${exposed.policy.token}`, remoteAddress: '10.1.2.3' });
    expect(inUrl.statusCode).toBe(401);
    const inUrlLocal = await exposed.app.inject({ url: `/api/runs?limit=1&token=${exposed.policy.token}` });
    expect(json(inUrlLocal).error).toMatchObject({ code: 'VALIDATION', field: 'query.token' });
    expect(json(inUrlLocal).error.message).toMatch(/only in the Authorization header/);
  });
});

describe('tags and archive', () => {
  it('sets and removes tags, validating the body', async () => {
    const id = seeded.runs.get('1/synthetic-vis-thermal/1')!;
    const r = await open.app.inject({ method: 'PUT', url: `/api/runs/${id}/tags`, payload: { key: 'note', value: 'check lr' } });
    expect(json(r).tags).toEqual({ note: 'check lr' });
    const bad = await open.app.inject({ method: 'PUT', url: `/api/runs/${id}/tags`, payload: { key: 'has space' } });
    expect(bad.statusCode).toBe(400);
    expect(json(bad).error.field).toBe('body.key');
    const del = await open.app.inject({ method: 'DELETE', url: `/api/runs/${id}/tags/note` });
    expect(json(del).tags).toEqual({});
    expect((await open.app.inject({ method: 'PUT', url: '/api/runs/9999/tags', payload: { key: 'a' } })).statusCode).toBe(404);
  });

  it('archives and restores a run', async () => {
    const id = seeded.failedId;
    const a = await open.app.inject({ method: 'POST', url: `/api/runs/${id}/archive`, payload: { archived: true } });
    expect(json(a)).toEqual({ runId: id, archived: true });
    const listed = json(await open.app.inject({ url: '/api/runs?limit=500' })).runs.map((x: { id: number }) => x.id);
    expect(listed).not.toContain(id);
    const archived = json(await open.app.inject({ url: '/api/runs?archived=only' })).runs.map((x: { id: number }) => x.id);
    expect(archived).toEqual([id]);
    await open.app.inject({ method: 'POST', url: `/api/runs/${id}/archive`, payload: { archived: false } });
    expect(json(await open.app.inject({ url: '/api/runs?archived=only' })).total).toBe(0);
    const bad = await open.app.inject({ method: 'POST', url: `/api/runs/${id}/archive`, payload: { archived: 'yes' } });
    expect(json(bad).error.field).toBe('body.archived');
  });
});

describe('cancel', () => {
  it('cancels a queued run at once, flags a running one for its worker, refuses a finished one with 409', async () => {
    const q = seeded.store.createRun({ experiment: 'cancel', kind: 'noop', config: {}, seed: 0 });
    const r = await open.app.inject({ method: 'POST', url: `/api/runs/${q}/cancel` });
    expect(json(r)).toMatchObject({ runId: q, outcome: 'cancelled', run: { status: 'cancelled' } });
    const running = seeded.store.createRun({ experiment: 'cancel', kind: 'noop', config: {}, seed: 0 });
    seeded.store.claimRun('w', 60_000, { runId: running });
    const flagged = json(await open.app.inject({ method: 'POST', url: `/api/runs/${running}/cancel` }));
    expect(flagged).toMatchObject({ outcome: 'requested', run: { status: 'running', cancelRequested: true } });
    expect(seeded.store.cancelRequested(running)).toBe(true);
    const done = await open.app.inject({ method: 'POST', url: `/api/runs/${q}/cancel` });
    expect(done.statusCode).toBe(409);
    expect(json(done).error.code).toBe('RUN_STATE');
    expect(json(done).error.message).toContain(`run ${q} is already cancelled`);
    expect((await open.app.inject({ method: 'POST', url: '/api/runs/99999/cancel' })).statusCode).toBe(404);
    seeded.store.cancelRun(running, 'w');
  });
});

describe('bulk tag, archive and restore', () => {
  it('tags and archives a selection in one request, and restores it', async () => {
    const ids = [seeded.runs.get('1/synthetic-vis-nir/2')!, seeded.runs.get('2/synthetic-vis-nir/2')!];
    const t = await open.app.inject({ method: 'POST', url: '/api/runs/bulk/tags', payload: { ids, key: 'batch', value: 'b1' } });
    expect(t.statusCode).toBe(200);
    for (const id of ids) expect(seeded.store.getTags(id)).toMatchObject({ batch: 'b1' });
    const a = await open.app.inject({ method: 'POST', url: '/api/runs/bulk/archive', payload: { ids, archived: true } });
    expect(json(a)).toEqual({ runIds: ids, archived: true });
    const only = json(await open.app.inject({ url: '/api/runs?archived=only' })).runs.map((x: { id: number }) => x.id).sort();
    expect(only).toEqual([...ids].sort());
    await open.app.inject({ method: 'POST', url: '/api/runs/bulk/archive', payload: { ids, archived: false } });
    expect(json(await open.app.inject({ url: '/api/runs?archived=only' })).total).toBe(0);
    // All or nothing: one unknown id and nothing changes.
    const bad = await open.app.inject({ method: 'POST', url: '/api/runs/bulk/tags', payload: { ids: [ids[0], 99999], key: 'x' } });
    expect(bad.statusCode).toBe(404);
    expect(json(bad).error).toMatchObject({ code: 'RUN_NOT_FOUND', field: 'body.ids' });
    expect(seeded.store.getTags(ids[0])).not.toHaveProperty('x');
    expect(json(await open.app.inject({ method: 'POST', url: '/api/runs/bulk/archive', payload: { ids: [], archived: true } })).error.field).toBe('body.ids');
  });
});

describe('launch', () => {
  it('queues one run with the resolved config', async () => {
    const r = await open.app.inject({ method: 'POST', url: '/api/launch', payload: { experiment: 'from-ui', set: ['ssmb.numExperts=8', 'dataset.protocol=synthetic-vis-thermal'] } });
    expect(r.statusCode).toBe(201);
    const [id] = json(r).runIds;
    const run = seeded.store.getRun(id)!;
    expect(run).toMatchObject({ status: 'queued', experimentName: 'from-ui', kind: 'train', method: 'ssmb' });
    expect((run.config as { ssmb: { numExperts: number } }).ssmb.numExperts).toBe(8);
  });

  it('queues a sweep with the trainer grid syntax', async () => {
    const r = await open.app.inject({
      method: 'POST',
      url: '/api/launch',
      payload: { experiment: 'sweep-ui', grid: '# experts x fold\nssmb.numExperts=1,2\n\ndataset.fold=1,2\n' },
    });
    expect(r.statusCode).toBe(201);
    const body = json(r);
    expect(body.runIds).toHaveLength(4);
    const cfgs = body.runIds.map((i: number) => seeded.store.getRun(i)!.config as { ssmb: { numExperts: number }; dataset: { fold: string } });
    expect(cfgs.map((c: { ssmb: { numExperts: number }; dataset: { fold: string } }) => `${c.ssmb.numExperts}/${c.dataset.fold}`)).toEqual(['1/1', '1/2', '2/1', '2/2']);
    expect(seeded.store.getRun(body.sweepId)!.kind).toBe('sweep');
  });

  it('expands dataset.fold=all with the folds the launcher is given', async () => {
    const srv = await buildServer({
      store: seeded.store,
      webRoot: path.join(root, 'no-web'),
      launcher: storeLauncher(seeded.store, { foldsOf: (p) => (p === 'synthetic-vis-nir' ? ['1', '2', '3'] : []) }),
    });
    const r = await srv.app.inject({ method: 'POST', url: '/api/launch', payload: { experiment: 'folds', grid: 'dataset.fold=all' } });
    expect(r.statusCode).toBe(201);
    expect(json(r).runIds.map((i: number) => (seeded.store.getRun(i)!.config as { dataset: { fold: string } }).dataset.fold)).toEqual(['1', '2', '3']);
    await srv.app.close();
    // The default launcher asks the protocols registry, like `ssmb launch --grid dataset.fold=all`.
    const all = await open.app.inject({ method: 'POST', url: '/api/launch', payload: { experiment: 'folds', grid: 'dataset.fold=all' } });
    expect(all.statusCode).toBe(201);
    expect(json(all).runIds.length).toBe((await protocolFoldNames('synthetic-vis-nir')).length);
    const refused = await open.app.inject({
      method: 'POST', url: '/api/launch', payload: { experiment: 'folds', set: ['dataset.protocol=no-such-protocol'], grid: 'dataset.fold=all' },
    });
    expect(json(refused).error).toMatchObject({ code: 'BAD_SWEEP_GRID', field: 'body.grid' });
    expect(json(refused).error.message).toContain("unknown protocol 'no-such-protocol'");
  });

  it('rejects unknown keys, bad grids, bad JSON and missing fields with 400s naming the field', async () => {
    const post = (payload: unknown, headers: Record<string, string> = {}) =>
      open.app.inject({ method: 'POST', url: '/api/launch', payload: payload as string, headers: { 'content-type': 'application/json', ...headers } });
    const unknown = await post({ experiment: 'x', set: ['ssmb.nExperts=2'] });
    expect(unknown.statusCode).toBe(400);
    expect(json(unknown).error).toMatchObject({ code: 'UNKNOWN_CONFIG_KEY', field: 'body.set' });
    expect(json(unknown).error.message).toContain('ssmb.nExperts');
    const grid = await post({ experiment: 'x', grid: 'optim.lr=0.1,abc' });
    expect(json(grid).error).toMatchObject({ code: 'BAD_SWEEP_GRID', field: 'body.grid' });
    const badJson = await post('{"experiment": ');
    expect(badJson.statusCode).toBe(400);
    expect(json(badJson).error.code).toBe('BAD_JSON');
    const missing = await post({ set: [] });
    expect(json(missing).error.field).toBe('body.experiment');
    const before = seeded.store.listRuns({ experiment: 'x' }).length;
    expect(before).toBe(0); // nothing was queued by the failed requests
  });
});

describe('response cache', () => {
  it('reuses GET responses only while the store is unchanged (own writes and other connections)', async () => {
    const id = seeded.runs.get('2/synthetic-vis-thermal/2')!;
    const url = `/api/runs/${id}`;
    await open.app.inject({ url });
    const hit = await open.app.inject({ url });
    expect(hit.headers['x-cache']).toBe('hit');
    await open.app.inject({ method: 'PUT', url: `${url}/tags`, payload: { key: 'own', value: '1' } });
    const afterOwn = await open.app.inject({ url });
    expect(afterOwn.headers['x-cache']).toBeUndefined();
    expect(json(afterOwn).run.tags).toMatchObject({ own: '1' });
    const writer = RunStore.open(seeded.file); // like a worker in another process
    writer.setTag(id, 'other', '2');
    writer.close();
    const afterOther = await open.app.inject({ url });
    expect(afterOther.headers['x-cache']).toBeUndefined();
    expect(json(afterOther).run.tags).toMatchObject({ own: '1', other: '2' });
    seeded.store.setTag(id, 'same', '3'); // in-process writer on the server's own connection
    expect(json(await open.app.inject({ url })).run.tags).toMatchObject({ same: '3' });
  });

  it('can be turned off', async () => {
    const srv = await buildServer({ store: seeded.store, webRoot: path.join(root, 'no-web'), cache: false });
    await srv.app.inject({ url: '/api/runs?limit=1' });
    expect((await srv.app.inject({ url: '/api/runs?limit=1' })).headers['x-cache']).toBeUndefined();
    await srv.app.close();
  });
});

describe('server-sent events', () => {
  it('streams new runs, status changes and new metric points', async () => {
    const srv = await buildServer({ store: seeded.store, webRoot: path.join(root, 'no-web'), pollMs: 50 });
    const address = await srv.app.listen({ host: '127.0.0.1', port: 0 });
    const ac = new AbortController();
    const res = await fetch(`${address}/api/events`, { signal: ac.signal });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let text = '';
    const waitFor = async (re: RegExp) => {
      const deadline = Date.now() + 5000;
      while (!re.test(text) && Date.now() < deadline) text += dec.decode((await reader.read()).value ?? new Uint8Array());
      return re.test(text);
    };
    expect(await waitFor(/event: hello/)).toBe(true);
    // A second connection writes, like a worker would.
    const writer = RunStore.open(seeded.file);
    const id = writer.createRun({ experiment: 'live', kind: 'noop', config: {}, seed: 0 });
    writer.claimRun('w', 60_000, { runId: id, kinds: ['noop'] });
    writer.logMetrics(id, [{ key: 'loss', step: 1, value: 0.5 }]);
    expect(await waitFor(new RegExp(`event: runs-added\\ndata: \\{"type":"runs-added","ids":\\[${id}\\]`))).toBe(true);
    expect(await waitFor(new RegExp(`"run-updated","run":\\{"id":${id},"status":"running"`))).toBe(true);
    expect(await waitFor(new RegExp(`"metrics","points":\\[\\{"runId":${id},"key":"loss","step":1,"value":0.5\\}`))).toBe(true);
    writer.completeRun(id, 'w');
    expect(await waitFor(new RegExp(`"run-updated","run":\\{"id":${id},"status":"completed"`))).toBe(true);
    writer.close();
    ac.abort();
    await srv.app.close();
  });
});
