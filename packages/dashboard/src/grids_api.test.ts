// The grid routes `ssmb reproduce --server` uses, on a real temporary store: the server plans the grid
// against its runs (a completed run is kept, a failed one re-queued, a dry run queues nothing), checks
// every config (keys, the server's roots), and answers states and results; lease owners only with the token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveConfig, RunStore } from '@ssmb/trainer';
import { buildServer, type DashboardServer } from './server.ts';

const TOKEN = 'grids-test-token';
let root: string;
let store: RunStore;
let srv: DashboardServer;
const auth = { authorization: `Bearer ${TOKEN}` };

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'ssmb-grids-'));
  mkdirSync(path.join(root, 'store'));
  store = RunStore.open(path.join(root, 'store', 'runs.sqlite'));
  srv = await buildServer({ store, token: TOKEN, webRoot: path.join(root, 'no-web'), pollMs: 60_000, reapMs: 0, maxSweepRuns: 3 });
});
afterAll(async () => {
  await srv.app.close();
  store.close();
  rmSync(root, { recursive: true, force: true });
});

const config = (seed: number) => resolveConfig({ sets: ['steps=5', `seed=${seed}`] });
const post = (body: unknown, headers: Record<string, string> = auth) => srv.app.inject({ method: 'POST', url: '/api/grids', payload: body as object, headers });
const json = (r: { body: string }) => JSON.parse(r.body);

describe('POST /api/grids', () => {
  it('queues what is missing, keeps completed runs, re-queues failed ones; a dry run queues nothing', async () => {
    const entries = [1, 2, 3].map((s) => ({ label: `seed ${s}`, config: config(s) }));
    const dry = json(await post({ experiment: 'table:t', entries, dryRun: true }));
    expect(dry).toMatchObject({ before: { total: 3, completed: 0, pending: 0, todo: 3 }, launched: [], runs: [{ runId: null, state: 'todo' }, { runId: null }, { runId: null }] });
    expect(store.listRuns()).toEqual([]);

    const first = json(await post({ experiment: 'table:t', entries }));
    expect(first.launched).toHaveLength(3);
    expect(first.runs.map((r: { state: string; status: string }) => [r.state, r.status])).toEqual([['pending', 'queued'], ['pending', 'queued'], ['pending', 'queued']]);
    const [a, b, c] = first.launched as number[];
    // a completes, b fails: called again, a is kept and b re-queued (its checkpoints kept); c still waits.
    store.claimRun('w', 60_000, { runId: a });
    store.completeRun(a);
    store.claimRun('w', 60_000, { runId: b });
    store.failRun(b, 'boom');
    const again = json(await post({ experiment: 'table:t', entries }));
    expect(again).toMatchObject({ before: { completed: 1, pending: 1, todo: 1 }, launched: [], requeued: [b] });
    expect(again.runs.map((r: { runId: number }) => r.runId)).toEqual([a, b, c]);
    // A smaller version of the table: its queued run no longer in the grid is cancelled (the workers drain the queue).
    const smaller = json(await post({ experiment: 'table:t', entries: entries.slice(0, 2) }));
    expect(smaller.cancelled).toEqual([c]);
  });

  it('checks every config and the size, naming the entry; needs the token', async () => {
    const bad = await post({ experiment: 'x', entries: [{ label: 'l', config: { ...config(1), steps: -1 } }] });
    expect([bad.statusCode, json(bad).error.code, json(bad).error.field]).toEqual([400, 'UNKNOWN_CONFIG_KEY', 'body.entries.0.config']);
    const outside = await post({ experiment: 'x', entries: [{ label: 'l', config: resolveConfig({ sets: ['dataset.root=/elsewhere/data'] }) }] });
    expect([outside.statusCode, json(outside).error.code]).toEqual([400, 'PATH_NOT_ALLOWED']);
    expect(json(outside).error.message).toContain('config key dataset.root: "/elsewhere/data"');
    const big = await post({ experiment: 'x', entries: [1, 2, 3, 4].map((s) => ({ label: 'l', config: config(s) })) });
    expect([big.statusCode, json(big).error.code]).toEqual([400, 'SWEEP_TOO_LARGE']);
    expect((await post({ experiment: 'x', entries: [{ label: 'l', config: config(9) }] }, {})).statusCode).toBe(401);
    expect(store.listRuns({ experiment: 'x' })).toEqual([]);
  });
});

describe('GET /api/grids/runs and /api/grids/results', () => {
  it('answers states (the lease owner only with the token) and results, naming unknown ids', async () => {
    const [id] = json(await post({ experiment: 'table:r', entries: [{ label: 'r', config: config(7) }] })).launched as number[];
    store.claimRun('node7:42:abc', 60_000, { runId: id });
    store.recordEvaluation(id, { protocol: 'p', fold: '1', metrics: { rank1: { value: 0.5, count: 8 }, eer: { value: Number.NaN } } });
    const withToken = json(await srv.app.inject({ url: `/api/grids/runs?ids=${id}`, headers: auth })).runs[0];
    expect(withToken).toMatchObject({ id, status: 'running', leaseOwner: 'node7:42:abc', attempts: 1 });
    expect(json(await srv.app.inject({ url: `/api/grids/runs?ids=${id}` })).runs[0].leaseOwner).toBeNull();
    const results = json(await srv.app.inject({ url: `/api/grids/results?ids=${id}` })).runs[0];
    expect(results.evaluations.map((e: { metric: string; value: unknown }) => [e.metric, e.value]).sort()).toEqual([['eer', 'NaN'], ['rank1', 0.5]]);
    const missing = await srv.app.inject({ url: `/api/grids/runs?ids=${id},999` });
    expect([missing.statusCode, json(missing).error.code, json(missing).error.message]).toEqual([404, 'RUN_NOT_FOUND', expect.stringContaining('Received ids 999.')]);
  });
});
