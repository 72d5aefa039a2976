// POST /api/launch confines the paths a run reads and writes and caps sweeps (the reproducers:
// outputDir=/etc/ssmb-evil, pretrain.output=/root/.bashrc, outputDir=../../../../tmp/escape,
// backbone.weights=/etc/shadow were all queued; a 1000-run grid was accepted).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RunStore, type Config } from '@ssmb/trainer';
import { buildServer, type DashboardServer } from './server.ts';

let root: string;
let store: RunStore;
let srv: DashboardServer;
let rooted: DashboardServer;
let dataRoot: string;
let weightsRoot: string;

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'ssmb-dash-launch-'));
  mkdirSync(path.join(root, 'store'));
  store = RunStore.open(path.join(root, 'store', 'runs.sqlite'));
  dataRoot = path.join(root, 'datasets');
  weightsRoot = path.join(root, 'weights');
  mkdirSync(dataRoot);
  mkdirSync(weightsRoot);
  symlinkSync(tmpdir(), path.join(root, 'store', 'escape-link'));
  srv = await buildServer({ store, webRoot: path.join(root, 'no-web'), maxSweepRuns: 6, tablesDir: null });
  rooted = await buildServer({ store, webRoot: path.join(root, 'no-web'), tablesDir: null, roots: { data: [dataRoot], weights: [weightsRoot] }, maxSweepRuns: 6 });
});
afterAll(async () => {
  await srv.app.close();
  await rooted.app.close();
  store.close();
  rmSync(root, { recursive: true, force: true });
});

const json = (r: { body: string }) => JSON.parse(r.body);
const launch = (s: DashboardServer, payload: Record<string, unknown>) => s.app.inject({ method: 'POST', url: '/api/launch', payload: { experiment: 'paths', ...payload } });
const queuedCount = () => store.listRuns({ experiment: 'paths' }).length;

describe('launch paths', () => {
  it('refuses paths a run would write or read outside its roots, naming the key; queues nothing', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ set: ['outputDir=/etc/ssmb-evil'] }, 'outputDir'],
      [{ kind: 'pretrain', set: ['pretrain.output=/root/.bashrc'] }, 'pretrain.output'],
      [{ set: ['outputDir=../../../../tmp/escape'] }, 'outputDir'],
      [{ set: ['backbone.weights=/etc/shadow'] }, 'backbone.weights'],
      [{ set: ['dataset.root=/'] }, 'dataset.root'],
      [{ set: ['outputDir=escape-link/x'] }, 'outputDir'], // a symlink inside the store pointing out of it
    ];
    for (const [payload, key] of cases) {
      const r = await launch(srv, payload);
      expect(r.statusCode, JSON.stringify(payload)).toBe(400);
      const e = json(r).error;
      expect(e).toMatchObject({ code: 'PATH_NOT_ALLOWED', field: 'body.set' });
      expect(e.message).toContain(`config key ${key}:`);
    }
    expect(queuedCount()).toBe(0);
  });

  it('resolves relative paths against the store folder and stores them absolute', async () => {
    const r = await launch(srv, { set: ['outputDir=runs-out', 'dataset.root=data/synthetic'] });
    expect(r.statusCode).toBe(201);
    const cfg = store.getRun(json(r).runIds[0])!.config as Config;
    expect(cfg.outputDir).toBe(path.join(store.dir, 'runs-out'));
    expect(cfg.dataset.root).toBe(path.join(store.dir, 'data', 'synthetic'));
  });

  it('reads from --data-root / --weights-root folders; each kind only from its own roots', async () => {
    const set = [`dataset.root=${path.join(dataRoot, 'casia')}`, `backbone.weights=${path.join(weightsRoot, 'r100.safetensors')}`];
    expect((await launch(srv, { set })).statusCode).toBe(400);
    expect((await launch(rooted, { set })).statusCode).toBe(201);
    const swapped = await launch(rooted, { set: [`backbone.weights=${path.join(dataRoot, 'x.safetensors')}`] });
    expect(json(swapped).error.message).toContain('weights roots (--weights-root)');
    const writeIntoData = await launch(rooted, { set: [`outputDir=${path.join(dataRoot, 'out')}`] });
    expect(json(writeIntoData).error.code).toBe('PATH_NOT_ALLOWED');
  });

  it('a sweep axis over a path takes absolute paths inside the roots', async () => {
    const rel = await launch(rooted, { grid: 'outputDir=a,b' });
    expect(json(rel).error).toMatchObject({ code: 'PATH_NOT_ALLOWED', field: 'body.grid' });
    const out = await launch(rooted, { grid: `outputDir=${path.join(store.dir, 'a')},/tmp/b` });
    expect(json(out).error).toMatchObject({ code: 'PATH_NOT_ALLOWED', field: 'body.grid' });
    expect(json(out).error.message).toContain('"/tmp/b"');
    const ok = await launch(rooted, { kind: 'noop', grid: `outputDir=${path.join(store.dir, 'a')},${path.join(store.dir, 'b')}` });
    expect(ok.statusCode).toBe(201);
  });

  it('a grid over the parent object of a path key is checked on every child config', async () => {
    const before = store.listRuns().length;
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ kind: 'pretrain', grid: 'pretrain={output: /root/.bashrc}' }, 'pretrain.output'],
      [{ grid: 'dataset={root: /etc, protocol: synthetic-vis-nir, fold: fold-1},{root: /tmp, protocol: synthetic-vis-nir, fold: fold-1}' }, 'dataset.root'],
      [{ grid: 'backbone={model: iresnet-synth, weights: /etc/shadow}' }, 'backbone.weights'],
      [{ kind: 'noop', grid: `dataset={root: ${path.join(store.dir, 'ok')}},{root: ../../etc}` }, 'dataset.root'],
    ];
    for (const [payload, key] of cases) {
      const r = await launch(rooted, payload);
      expect(r.statusCode, JSON.stringify(payload)).toBe(400);
      expect(json(r).error, r.body).toMatchObject({ code: 'PATH_NOT_ALLOWED', field: 'body.grid' });
      expect(json(r).error.message).toContain(`config key ${key}:`);
    }
    expect(store.listRuns().length).toBe(before);
    const inside = await launch(rooted, { kind: 'noop', grid: `dataset={root: ${path.join(dataRoot, 'a')}},{root: ${path.join(dataRoot, 'b')}}` });
    expect(inside.statusCode).toBe(201);
  });
});

describe('sweep size cap', () => {
  it('refuses a grid larger than --max-sweep-runs (counted before expanding it), with fold=all counted after', async () => {
    const before = store.listRuns().length;
    const big = await launch(srv, { kind: 'noop', grid: 'seed=' + Array.from({ length: 1000 }, (_, i) => i).join(',') });
    expect(big.statusCode).toBe(400);
    expect(json(big).error).toMatchObject({ code: 'SWEEP_TOO_LARGE', field: 'body.grid' });
    expect(json(big).error.message).toContain("expands to 1000 runs; this server's limit is 6");
    expect(json(big).error.message).toContain('ssmb dashboard --max-sweep-runs N');
    // 10 axes of 10 values = 1e10 runs: refused from the axis sizes, never built.
    const huge = await launch(srv, { kind: 'noop', grid: Array.from({ length: 10 }, (_, a) => `${['seed', 'steps', 'batchSize', 'evalEvery', 'checkpointEvery', 'optim.lr', 'optim.warmup', 'loss.margin', 'loss.alpha', 'loss.lambdaTs'][a]}=${Array.from({ length: 10 }, (_, i) => i + 1).join(',')}`).join('\n') });
    expect(json(huge).error.message).toContain('expands to 10000000000 runs');
    const folds = await buildServer({ store, webRoot: path.join(root, 'no-web'), tablesDir: null, maxSweepRuns: 6 });
    const allFolds = await folds.app.inject({ method: 'POST', url: '/api/launch', payload: { experiment: 'paths', kind: 'noop', grid: 'seed=1,2,3\ndataset.fold=all' } });
    expect(json(allFolds).error.message).toMatch(/With every fold of dataset.fold=all the grid expands to \d+ runs/);
    await folds.app.close();
    expect(store.listRuns().length).toBe(before);
    const ok = await launch(srv, { kind: 'noop', grid: 'seed=1,2,3\nsteps=1,2' });
    expect(json(ok).runIds).toHaveLength(6);
  });
});
