// Score histograms and embedding samples over the API: fastify.inject against a real store whose runs were
// evaluated for real (testing/eval_samples.ts) from synthetic embeddings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EMBEDDING_SAMPLE_MAX, RunStore, SCORE_BINS } from '@ssmb/trainer';
import { buildServer, type DashboardServer } from './server.ts';
import { addEvaluatedRun, syntheticFold, type SyntheticFold } from './testing/eval_samples.ts';

let root: string;
let store: RunStore;
let srv: DashboardServer;
let id: number;
let bare: number;
/** 120 identities x (2 VIS gallery + 3 NIR probe) = 600 images: more than a sample holds. */
const FOLD: SyntheticFold = { identities: 120, galleryPerId: 2, probePerId: 3, dim: 16, noise: 0.6, seed: 'api' };

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'ssmb-dash-samples-'));
  store = RunStore.open(path.join(root, 'runs.sqlite'));
  id = addEvaluatedRun(store, 'clustered', 'synthetic-vis-nir', '1', FOLD);
  bare = store.createRun({ experiment: 'e', kind: 'noop', config: {}, seed: 0 });
  srv = await buildServer({ store, webRoot: path.join(root, 'no-web') });
});
afterAll(async () => {
  await srv.app.close();
  store.close();
  rmSync(root, { recursive: true, force: true });
});

const get = (url: string) => srv.app.inject({ method: 'GET', url });
const json = (r: { body: string }) => JSON.parse(r.body);
const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);

describe('GET /api/runs/:id/scores', () => {
  it('per fold the genuine and impostor counts on the shared bins, adding up to the comparisons the metrics count', async () => {
    const r = await get(`/api/runs/${id}/scores`);
    expect(r.statusCode).toBe(200);
    const [h] = json(r).histograms;
    expect(h).toMatchObject({ protocol: 'synthetic-vis-nir', fold: '1', lo: SCORE_BINS.lo, hi: SCORE_BINS.hi, outside: { genuine: 0, impostor: 0 } });
    expect(h.genuine).toHaveLength(SCORE_BINS.bins);
    // 360 probes, each against its own template (genuine) and the 119 others (impostor).
    expect(sum(h.genuine)).toBe(360);
    expect(sum(h.impostor)).toBe(360 * 119);
    const metrics = Object.fromEntries(store.getEvalMetrics(id).map((e) => [e.metric, e.value]));
    expect([sum(h.genuine), sum(h.impostor)]).toEqual([metrics.genuine, metrics.impostor]);
    // Genuine scores lie higher than impostor scores: the mean bin of each.
    const meanBin = (c: number[]) => c.reduce((a, n, i) => a + n * i, 0) / sum(c);
    expect(meanBin(h.genuine)).toBeGreaterThan(meanBin(h.impostor) + 10);
    expect(json(await get(`/api/runs/${bare}/scores`)).histograms).toEqual([]);
    expect(json(await get('/api/runs/9999/scores')).error.code).toBe('RUN_NOT_FOUND');
  });
});

describe('GET /api/runs/:id/embeddings', () => {
  it('lists what each fold sampled of what it had; the sample itself as base64 float32 rows, exactly the stored embeddings', async () => {
    const [info] = json(await get(`/api/runs/${id}/embeddings`)).samples;
    // whole identities of 5 images each: 100 of 120 fit in 500
    expect(info).toEqual({ protocol: 'synthetic-vis-nir', fold: '1', dim: 16, total: { gallery: 240, probe: 360, subjects: 120 }, sampled: { gallery: 200, probe: 300, subjects: 100 } });
    expect(info.sampled.gallery + info.sampled.probe).toBe(EMBEDDING_SAMPLE_MAX);
    const r = await get(`/api/runs/${id}/embeddings/sample?protocol=synthetic-vis-nir&fold=1`);
    expect(r.statusCode).toBe(200);
    const s = json(r).sample;
    expect(s.points).toHaveLength(500);
    const bytes = Buffer.from(s.vectors, 'base64');
    const v = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
    expect(v.length).toBe(500 * 16);
    // The first sampled image's row is its embedding as syntheticFold made it.
    const e = syntheticFold(FOLD);
    const p = s.points[0];
    const set = p.role === 'gallery' ? e.gallery : e.probe;
    const i = set.subjects.indexOf(p.subject);
    expect(Array.from(v.subarray(0, 16))).toEqual(Array.from(set.emb.subarray(i * 16, i * 16 + 16)));
    expect(json(await get(`/api/runs/${id}/embeddings/sample?protocol=synthetic-vis-nir&fold=2`)).sample).toBeNull();
    const bad = await get(`/api/runs/${id}/embeddings/sample?protocol=synthetic-vis-nir`);
    expect(bad.statusCode).toBe(400);
    expect(json(bad).error.message).toContain('query.fold');
  });
});
