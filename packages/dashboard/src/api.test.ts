// API tests: fastify.inject against a real temporary SQLite run store seeded through RunStore.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RunStore, TRAIN_METRICS } from '@ssmb/trainer';
import { buildServer, type DashboardServer } from './server.ts';
import { seedStore, rank1Of, type SeededStore, STEPS, GENUINE, BASELINE_RANK1, BLOCKS } from './testing/seed.ts';

let root: string;
let seeded: SeededStore;
let srv: DashboardServer;

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'ssmb-dash-api-'));
  seeded = seedStore(path.join(root, 'store'));
  srv = await buildServer({ store: seeded.store, webRoot: path.join(root, 'no-web') });
});
afterAll(async () => {
  await srv.app.close();
  seeded.store.close();
  rmSync(root, { recursive: true, force: true });
});

const get = (url: string, extra: Record<string, unknown> = {}) => srv.app.inject({ method: 'GET', url, ...extra });
const json = (r: { body: string }) => JSON.parse(r.body);

describe('runs', () => {
  it('lists runs newest first with config columns and fold-averaged metrics', async () => {
    const r = await get('/api/runs');
    expect(r.statusCode).toBe(200);
    const body = json(r);
    expect(body.total).toBe(20);
    expect(body.runs[0].id).toBe(20);
    const n4 = body.runs.find((x: { id: number }) => x.id === seeded.runs.get('4/synthetic-vis-nir/2'));
    expect(n4).toMatchObject({ status: 'completed', backbone: 'iresnet-tiny', numExperts: 4, protocol: 'synthetic-vis-nir', fold: '2', method: 'ssmb' });
    expect(n4.metrics.rank1).toBeCloseTo(rank1Of(4, 'synthetic-vis-nir', '2'), 10);
    // Last and best of the training loss beside each other (best = min for a loss).
    expect(n4.latest.loss.step).toBe(STEPS);
    expect(n4.latest.loss.min).toBeLessThan(n4.latest.loss.value + 1e-12);
    // Columns only where they apply: no N for the frozen baseline, the pre-training protocol and no fold for pretrain.
    const base = body.runs.find((x: { id: number }) => x.id === seeded.baselineIds[0]);
    expect(base).toMatchObject({ method: 'baseline', numExperts: null, protocol: 'synthetic-vis-nir' });
    const pre = body.runs.find((x: { id: number }) => x.id === seeded.pretrainId);
    expect(pre).toMatchObject({ kind: 'pretrain', numExperts: null, protocol: 'synthetic-pretrain-vis', fold: null });
  });

  it('filters by status, search and tag, sorts by a metric, pages', async () => {
    expect(json(await get('/api/runs?status=failed,queued')).runs.map((x: { status: string }) => x.status).sort()).toEqual(['failed', 'queued']);
    expect(json(await get('/api/runs?search=thermal')).total).toBe(9); // 6 SSMB, 2 baseline, 1 failed
    expect(json(await get('/api/runs?tag=paper=table2')).runs.map((x: { id: number }) => x.id)).toEqual([seeded.runs.get('1/synthetic-vis-nir/1')]);
    const sorted = json(await get('/api/runs?sort=rank1&order=desc&limit=2&offset=0'));
    expect(sorted.runs).toHaveLength(2);
    expect(sorted.runs[0].metrics.rank1).toBeCloseTo(0.82, 10);
    const asc = json(await get('/api/runs?sort=rank1&order=asc&limit=1'));
    expect(asc.runs[0].metrics.rank1).toBeCloseTo(0.4, 10);
  });

  it('rejects bad queries with 400 naming the field', async () => {
    for (const [url, field] of [
      ['/api/runs?limit=abc', 'query.limit'],
      ['/api/runs?limit=999999', 'query.limit'],
      ['/api/runs?sort=bogus', 'query.sort'],
      ['/api/runs?status=done', 'query.status.0'],
      ['/api/runs?color=red', 'query.color'],
    ]) {
      const r = await get(url);
      expect(r.statusCode, url).toBe(400);
      expect(json(r).error).toMatchObject({ code: 'VALIDATION', field });
      expect(json(r).error.message).toContain(field.split('.').slice(0, 2).join('.'));
    }
  });

  it('returns a run with resolved config, per-fold evaluations and files; 404 and 400 otherwise', async () => {
    const id = seeded.runs.get('1/synthetic-vis-nir/1')!;
    const r = json(await get(`/api/runs/${id}`));
    expect(r.run.config.ssmb.numExperts).toBe(1);
    expect(r.run.tags).toEqual({ paper: 'table2' });
    // The keys the trainer logs (one source: the trainer's TRAIN_METRICS), each with its chart group.
    const keys = r.metricKeys.map((k: { key: string; group: string }) => `${k.group}:${k.key}`);
    expect(keys).toEqual(expect.arrayContaining(['losses:loss', 'losses:loss/cc', 'losses:loss/ts', 'losses:loss/lb', 'lr:lr', 'perf:perf/img_per_sec', 'routing:routing/stem/entropy', 'routing:routing/layer1/share/0']));
    expect(r.metricKeys.find((k: { key: string }) => k.key === TRAIN_METRICS.lossCc).better).toBe('lower');
    expect(r.evaluations.find((e: { metric: string }) => e.metric === 'rank1').value).toBeCloseTo(0.6, 10);
    // One fold: no std to report (null, never "± 0"), n stated; counts stay integers.
    const s = r.summary.find((x: { metric: string }) => x.metric === 'rank1');
    expect([s.n, s.std]).toEqual([1, null]);
    expect(r.summary.find((x: { metric: string }) => x.metric === 'genuine').mean).toBe(GENUINE);
    // Files are listed as stored: relative to the store's folder.
    expect(r.files.map((f: { kind: string; storedPath: string }) => `${f.kind}:${f.storedPath}`).sort()).toEqual([
      `checkpoint:${path.join('artifacts', `run-${id}`, 'checkpoints', 'step-00000300.ckpt')}`, `scores:${path.join('artifacts', `run-${id}`, 'scores.txt')}`,
    ]);
    const missing = await get('/api/runs/9999');
    expect(missing.statusCode).toBe(404);
    expect(json(missing).error.code).toBe('RUN_NOT_FOUND');
    expect((await get('/api/runs/abc')).statusCode).toBe(400);
  });

  it('downsamples metric histories and says how many points it plots', async () => {
    const id = seeded.runs.get('2/synthetic-vis-nir/1')!;
    const r = json(await get(`/api/runs/${id}/metrics?keys=loss,perf/img_per_sec&maxPoints=40`));
    expect(r.series.map((s: { key: string }) => s.key)).toEqual(['loss', 'perf/img_per_sec']);
    const loss = r.series[0];
    expect(loss.total).toBe(STEPS);
    expect(loss.plotted).toBe(loss.steps.length);
    expect(loss.plotted).toBeLessThanOrEqual(40);
    expect(loss.steps[0]).toBe(1);
    expect(loss.steps.at(-1)).toBe(STEPS);
    const full = json(await get(`/api/runs/${id}/metrics?keys=loss&maxPoints=1000`)).series[0];
    expect(full.plotted).toBe(STEPS);
    expect(Math.max(...loss.values)).toBe(Math.max(...full.values));
    expect(json(await get(`/api/runs/${id}/metrics?maxPoints=3`)).error.field).toBe('query.maxPoints');
  });

  it('sends +-Infinity points as "Infinity" / "-Infinity" (never null) and counts the NaN points it leaves out', async () => {
    // Its own store: the seeded one's experiments and counts are asserted elsewhere.
    mkdirSync(path.join(root, 'nonfinite'));
    const store = RunStore.open(path.join(root, 'nonfinite', 'runs.sqlite'));
    const own = await buildServer({ store, webRoot: path.join(root, 'no-web') });
    try {
      const id = store.createRun({ experiment: 'nonfinite', kind: 'noop', config: {}, seed: 1, name: 'diverged' });
      store.logMetrics(id, [1, Number.NaN, Number.POSITIVE_INFINITY, 2, Number.NEGATIVE_INFINITY].map((value, step) => ({ key: 'loss', step, value })));
      const s = json(await own.app.inject({ method: 'GET', url: `/api/runs/${id}/metrics?keys=loss` })).series[0];
      expect(s).toMatchObject({ total: 4, nan: 1, plotted: 4, steps: [0, 2, 3, 4], values: [1, 'Infinity', 2, '-Infinity'] });
      expect(s.values.map(Number)).toEqual([1, Infinity, 2, -Infinity]);
    } finally {
      await own.app.close();
      store.close();
    }
  });

  it('serves ROC/CMC curves and the routing table', async () => {
    const id = seeded.runs.get('4/synthetic-vis-thermal/2')!;
    const c = json(await get(`/api/runs/${id}/curves`));
    expect(c.curves.map((x: { kind: string }) => x.kind)).toEqual(['cmc', 'roc']);
    expect(c.curves[1].x[0]).toBe(1e-5);
    const roc = json(await get(`/api/runs/${id}/curves?kind=roc`));
    expect(roc.curves).toHaveLength(1);
    const routing = json(await get(`/api/runs/${id}/routing`)).routing;
    expect(routing).toHaveLength(BLOCKS.length * 3 * 4);
    expect(routing.find((x: { block: string; modality: string; expert: number }) => x.block === 'stem' && x.modality === 'NIR' && x.expert === 1).count).toBe(40);
  });
});

describe('compare, ablation, tables', () => {
  it('compares runs: config differences only and metric summaries', async () => {
    const a = seeded.runs.get('1/synthetic-vis-nir/1')!;
    const b = seeded.runs.get('4/synthetic-vis-nir/2')!;
    const r = json(await get(`/api/compare?ids=${a},${b}`));
    expect(r.configDiff.map((d: { key: string }) => d.key)).toEqual(['dataset.fold', 'ssmb.numExperts']);
    expect(r.configDiff[1].values).toEqual({ [a]: 1, [b]: 4 });
    // Legends name the runs by what differs, not "#10 loss".
    expect(r.labels).toEqual({ [a]: `#${a} fold=1 numExperts=1`, [b]: `#${b} fold=2 numExperts=4` });
    const lossOf = (id: number) => r.latest[id].find((m: { key: string }) => m.key === 'loss');
    expect(lossOf(b)).toMatchObject({ step: STEPS, better: 'lower' });
    expect(lossOf(b).min).toBeLessThanOrEqual(lossOf(b).value);
    const s = r.summary.find((x: { runId: number; metric: string }) => x.runId === b && x.metric === 'rank1');
    expect(s.mean).toBeCloseTo(0.82, 10);
    expect(json(await get(`/api/compare?ids=${a}`)).error.code).toBe('TOO_FEW_RUNS');
    expect((await get(`/api/compare?ids=${a},9999`)).statusCode).toBe(404);
  });

  it('ablation: mean +- std over folds per protocol and config value', async () => {
    const r = json(await get('/api/ablation?metric=rank1&key=ssmb.numExperts&method=ssmb'));
    const p = r.points.find((x: { protocol: string; x: number }) => x.protocol === 'synthetic-vis-nir' && x.x === 4);
    expect(p.n).toBe(2);
    expect(p.mean).toBeCloseTo((0.8 + 0.82) / 2, 10);
    expect(p.std).toBeCloseTo(Math.SQRT2 * 0.01, 6);
    expect(r.points.filter((x: { protocol: string }) => x.protocol === 'synthetic-vis-thermal').map((x: { x: number }) => x.x)).toEqual([1, 2, 4]);
    // Any method: the baselines (whose config also says numExperts = 4) are not counted as N = 4 ...
    const any = json(await get('/api/ablation?metric=rank1&key=ssmb.numExperts'));
    expect(any.points.find((x: { protocol: string; x: number }) => x.protocol === 'synthetic-vis-nir' && x.x === 4).n).toBe(2);
    // ... they are the reference line, per protocol.
    expect(any.baselines.map((b: { protocol: string; mean: number; n: number }) => [b.protocol, b.mean, b.n])).toEqual([
      ['synthetic-vis-nir', BASELINE_RANK1, 2], ['synthetic-vis-thermal', BASELINE_RANK1, 2],
    ]);
    const bad = await get('/api/ablation?key=ssmb..x');
    expect(bad.statusCode).toBe(400);
    expect(json(bad).error.field).toBe('query.key');
  });

  it('paper table as JSON and exported as CSV, Markdown and LaTeX', async () => {
    const r = json(await get('/api/tables?rows=ssmb.numExperts&method=ssmb&metrics=rank1,eer'));
    const t = r.table;
    expect(t.columns.map((c: { label: string }) => c.label)).toEqual(['synthetic-vis-nir', 'synthetic-vis-thermal']);
    expect(t.rows.map((x: { label: string }) => x.label)).toEqual(['ssmb.numExperts=1', 'ssmb.numExperts=2', 'ssmb.numExperts=4']);
    const cell = t.rows[2].cells[0][0];
    expect(cell.stat.mean).toBeCloseTo(81, 8);
    expect(cell.stat.n).toBe(2);
    const csv = await get('/api/tables?rows=ssmb.numExperts&method=ssmb&metrics=rank1&format=csv');
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.body.split('\n')[0]).toMatch(/^table,row,row_label/);
    expect(csv.body).toContain('ssmb.numExperts=4');
    const md = (await get('/api/tables?rows=ssmb.numExperts&method=ssmb&metrics=rank1&format=md')).body;
    expect(md).toMatch(/\| ssmb\.numExperts=4 \| \*\*81\.00 ± 1\.41\*\* \|/);
    const tex = (await get('/api/tables?rows=method&metrics=rank1&format=latex')).body;
    expect(tex).toContain('\\begin{tabular}');
    expect(tex).toContain('baseline');
    // Rows are N: the header says so, and the baseline is a row of its own (never merged into N = 4).
    const byN = json(await get('/api/tables?rows=ssmb.numExperts&metrics=rank1')).table;
    expect(byN.rowHeader).toBe('ssmb.numExperts');
    expect(byN.rows.map((x: { label: string }) => x.label)).toEqual(['baseline', 'ssmb.numExperts=1', 'ssmb.numExperts=2', 'ssmb.numExperts=4']);
    expect(byN.rows[3].cells[0][0].stat.n).toBe(2);
    expect((await get('/api/tables?rows=ssmb.numExperts&metrics=rank1&format=latex')).body).toMatch(/^ssmb\.numExperts & Rank-1/m);
    expect((await get('/api/tables?format=pdf')).statusCode).toBe(400);
    expect(json(await get('/api/tables?experiment=999&rows=method')).table).toBeNull();
    const none = await get('/api/tables?experiment=999&rows=method&format=csv');
    expect(none.statusCode).toBe(404);
    expect(json(none).error.code).toBe('NO_RESULTS');
  });

  it('meta lists experiments, metrics and config keys; unknown endpoints are JSON 404s', async () => {
    const m = json(await get('/api/meta'));
    expect(m.experiments.map((e: { name: string }) => e.name)).toEqual(['experts-ablation', 'baselines', 'backbone']);
    expect(m.evalMetrics).toEqual(['rank1', 'tar_far_1e2', 'eer', 'auc', 'genuine', 'impostor']); // the order papers print them
    expect(m.launchKinds).toEqual(['train', 'evaluate', 'pretrain', 'noop']);
    expect(m.configKeys).toContain('ssmb.numExperts');
    const nf = await get('/api/nope');
    expect(nf.statusCode).toBe(404);
    expect(json(nf).error.code).toBe('NOT_FOUND');
  });
});

describe('artifacts', () => {
  const first = () => seeded.runs.get('1/synthetic-vis-nir/1')!;
  it('serves recorded files from the store folder', async () => {
    const r = await get(`/api/runs/${first()}/artifact?path=${encodeURIComponent(path.relative(seeded.dir, seeded.scoreFile))}`);
    expect(r.statusCode).toBe(200);
    expect(r.body).toContain('s001 s001 NIR/s001/001.bmp 0.91');
    expect(r.headers['content-disposition']).toContain('scores.txt');
    const ck = await get(`/api/runs/${first()}/artifact?path=${encodeURIComponent(path.join('artifacts', `run-${first()}`, 'checkpoints', 'step-00000300.ckpt'))}`);
    expect(ck.statusCode).toBe(200);
    expect([...ck.rawPayload]).toEqual([1, 2, 3, 4]);
  });

  it('refuses traversal, absolute paths outside the store, symlinks out and unrecorded files', async () => {
    const outside = path.join(root, 'secret.txt');
    writeFileSync(outside, 'TOP-SECRET-CONTENT');
    symlinkSync(outside, path.join(seeded.dir, 'artifacts', 'link.txt'));
    writeFileSync(path.join(seeded.dir, 'unrecorded.txt'), 'x');
    const cases: Array<[string, number]> = [
      ['../secret.txt', 403],
      ['artifacts/../../secret.txt', 403],
      ['..%2fsecret.txt', 403],
      [encodeURIComponent(outside), 403],
      ['%2Fetc%2Fpasswd', 403],
      ['artifacts%2Flink.txt', 403],
      ['unrecorded.txt', 403], // not in the run's own folder
      ['runs.sqlite', 403], // the store itself, even when a row names it (below)
      ['artifacts%2F..%2F..%2Fsecret.txt', 403],
    ];
    seeded.store.addArtifact(first(), 'x', seeded.store.file);
    for (const [p, status] of cases) {
      const r = await get(`/api/runs/${first()}/artifact?path=${p}`);
      expect(r.statusCode, p).toBe(status);
      expect(r.body).not.toContain('TOP-SECRET-CONTENT');
    }
    // Another run cannot read the first run's files.
    expect((await get(`/api/runs/${seeded.baselineIds[0]}/artifact?path=${encodeURIComponent(seeded.scoreFile)}`)).statusCode).toBe(403); // not its folder
  });
});

describe('run convergence (GET /api/runs/:id)', () => {
  it('an SSMB training run: the fixed-pair change over the last fifth, or why it cannot be measured; null for a baseline', async () => {
    const id = seeded.runs.get('2/synthetic-vis-nir/1')!;
    const before = json(await get(`/api/runs/${id}`)).convergence;
    // the seeded run logged no loss/fixed: not measurable, named; its minibatch loss over (240, 300] is measured
    expect(before).toMatchObject({ totalSteps: STEPS, threshold: 0.05, fixed: { measurable: false, reason: expect.stringMatching(/no loss\/fixed estimates/) }, minibatch: { measurable: true } });
    const mb = before.minibatch;
    const loss = seeded.store.getMetricHistory(id, TRAIN_METRICS.loss);
    const mean = (a: number, b: number) => { const v = loss.filter((p) => p.step > a && p.step <= b).map((p) => p.value); return v.reduce((x, y) => x + y, 0) / v.length; };
    expect(mb.change).toBeCloseTo(Math.abs(mean(270, 300) - mean(240, 270)) / mean(240, 270), 10);
    expect(mb.points).toBe(60);
    // estimates every 30 steps: 240 (= 0.8 x 300) -> 300
    seeded.store.logMetrics(id, Array.from({ length: 11 }, (_, i) => ({ key: TRAIN_METRICS.lossFixed, step: 30 * i, value: 2 - 0.1 * i })));
    const after = json(await get(`/api/runs/${id}`)).convergence;
    expect(after.fixed).toEqual({ measurable: true, change: expect.closeTo(0.2 / 1.2, 10), from: { step: 240, value: expect.closeTo(1.2, 10) }, to: { step: 300, value: expect.closeTo(1, 10) }, estimatesAfterStart: 2 });
    expect(json(await get(`/api/runs/${seeded.baselineIds[0]}`)).convergence).toBeNull(); // an evaluate run trains nothing
  });
});
