// Runs grouped over folds and seeds, structured filters, and groups compared with significance: API
// tests (fastify.inject) on the seeded store plus two configurations whose Rank-1 differs by less than
// the folds' spread, and one whose TAR@FAR=0.01% rests on a single false accept.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultConfig, mergeConfig } from '@ssmb/trainer';
import { buildServer, type DashboardServer } from './server.ts';
import { defaultGroupKeys, groupable, groupRuns, parseFilter } from './run_groups.ts';
import { seedStore, type SeededStore } from './testing/seed.ts';

let root: string;
let seeded: SeededStore;
let srv: DashboardServer;
const close: Record<string, number[]> = { a: [], b: [] };

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'ssmb-dash-groups-'));
  seeded = seedStore(path.join(root, 'store'));
  // Two learning rates over three folds: 49.67 ± 2.52 vs 49.00 ± 1.00, on 300 probes a fold (a tie).
  const rank1 = { a: [0.5, 0.52, 0.47], b: [0.49, 0.5, 0.48] };
  for (const lr of ['a', 'b'] as const) {
    rank1[lr].forEach((r1, i) => {
      const fold = String(i + 1);
      const config = mergeConfig(defaultConfig(), { method: 'ssmb', ssmb: { numExperts: 2 }, dataset: { protocol: 'close-vis-nir', fold }, optim: { lr: lr === 'a' ? 0.1 : 0.2 } });
      const id = seeded.store.createRun({ experiment: 'close', kind: 'train', method: 'ssmb', config, seed: 0, name: `close ${lr}/${fold}` });
      seeded.store.recordEvaluation(id, {
        protocol: 'close-vis-nir', fold,
        metrics: { rank1: { value: r1, count: 300 }, tar_far_1e4: { value: 0.3, count: 10_440 }, genuine: { value: 300, count: 300 }, impostor: { value: 10_440, count: 10_440 } },
      });
      seeded.store.completeRun(id);
      close[lr].push(id);
    });
  }
  srv = await buildServer({ store: seeded.store, webRoot: path.join(root, 'no-web') });
});
afterAll(async () => {
  await srv.app.close();
  seeded.store.close();
  rmSync(root, { recursive: true, force: true });
});

const get = async (url: string) => {
  const r = await srv.app.inject({ url });
  return { status: r.statusCode, body: JSON.parse(r.body) };
};
type Group = { key: string; label: string; runIds: number[]; folds: string[]; metrics: Record<string, { mean: number | null; std: number | null; n: number }> };

describe('runs grouped over folds and seeds', () => {
  it('groups runs equal on every config key but fold and seed, with mean ± std (n) per metric; sorting ranks groups', async () => {
    const { status, body } = await get('/api/runs/groups?sort=rank1&order=desc');
    expect(status).toBe(200);
    expect(body.by).not.toContain('dataset.fold');
    expect(body.by).not.toContain('seed');
    expect(body.by).toContain('ssmb.numExperts');
    const top: Group = body.groups[0];
    const n4 = [seeded.runs.get('4/synthetic-vis-nir/1'), seeded.runs.get('4/synthetic-vis-nir/2')];
    expect(top.runIds.sort()).toEqual(n4.sort());
    expect(top.folds).toEqual(['1', '2']);
    expect(top.metrics.rank1.mean).toBeCloseTo(0.81, 12);
    expect(top.metrics.rank1.std).toBeCloseTo(Math.SQRT2 * 0.01, 12);
    expect(top.metrics.rank1.n).toBe(2);
    expect(top.label).toMatch(/N=4/);
    // The running and failed N=2 runs share their configuration's group; only evaluated runs count in n.
    const n2nir = body.groups.find((g: Group) => g.runIds.includes(seeded.runningId))!;
    expect(n2nir.runIds).toContain(seeded.runs.get('2/synthetic-vis-nir/1'));
    expect(n2nir.metrics.rank1.n).toBe(2);
    // 12 SSMB runs in 6 groups, 4 baselines in 2; every run is in exactly one group.
    expect(body.runsTotal).toBe(body.groups.reduce((s: number, g: Group) => s + g.runIds.length, 0));
  });

  it('groups by the keys named, and rejects a key no run has, naming it', async () => {
    const { body } = await get('/api/runs/groups?by=ssmb.numExperts&where=method%3Dssmb%20status%3Dcompleted');
    expect(body.groups.map((g: Group) => g.runIds.length).sort((a: number, b: number) => a - b)).toEqual([4, 4, 10]); // N=1, N=4: 2 protocols x 2 folds; N=2 also has the 6 'close' runs
    const bad = await get('/api/runs/groups?by=foo.bar');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'BAD_FILTER', field: 'query.by' });
    expect(bad.body.error.message).toContain('"foo.bar"');
  });
});

describe('grouping from the store scan', () => {
  it('gives the same groups as grouping full records one run at a time', async () => {
    const { body } = await get('/api/runs/groups?limit=5000');
    const records = seeded.store.listRuns({});
    const runs = groupable(records, seeded.store.queryRuns({ limit: 5000, latestKeys: [] }).runs);
    const by = defaultGroupKeys(runs);
    expect(body.by).toEqual(by);
    const direct = groupRuns(runs, by);
    const view = (gs: Group[]) => gs.map((g) => ({ key: g.key, label: g.label, runIds: [...g.runIds].sort((a, b) => a - b), folds: g.folds, metrics: g.metrics })).sort((a, b) => a.key.localeCompare(b.key));
    expect(view(body.groups)).toEqual(view(direct as unknown as Group[]));
  });

  it('groups by fold when asked (a key the scan otherwise holds apart), pages, and sees a new run at once', async () => {
    const byFold = (await get('/api/runs/groups?by=dataset.fold&where=experiment%3Dexperts-ablation')).body;
    expect(byFold.groups.map((g: Group) => JSON.parse(g.key)[1]).sort()).toEqual(['1', '2']);
    expect(byFold.groups.every((g: Group) => g.folds.length === 1)).toBe(true);
    const all = (await get('/api/runs/groups?sort=name&order=asc')).body;
    const pages = [(await get('/api/runs/groups?sort=name&order=asc&limit=3')).body, (await get('/api/runs/groups?sort=name&order=asc&limit=3&offset=3')).body];
    expect(pages.flatMap((p) => p.groups.map((g: Group) => g.key))).toEqual(all.groups.slice(0, 6).map((g: Group) => g.key));
    expect(pages[1].total).toBe(all.total);
    // The grouping is kept between pages only while the store is unchanged.
    const config = mergeConfig(defaultConfig(), { method: 'ssmb', ssmb: { numExperts: 3 }, dataset: { protocol: 'fresh-vis-nir', fold: '1' } });
    const id = seeded.store.createRun({ experiment: 'fresh', kind: 'train', method: 'ssmb', config, seed: 0, name: 'fresh' });
    const after = (await get('/api/runs/groups?sort=name&order=asc')).body;
    expect(after.total).toBe(all.total + 1);
    expect(after.groups.some((g: Group) => g.runIds.includes(id))).toBe(true);
    // A filter on a tag reads the tags (grouping alone does not need them).
    seeded.store.setTag(id, 'pick', 'yes');
    const tagged = (await get('/api/runs/groups?where=tag.pick%3Dyes')).body;
    expect(tagged.groups.flatMap((g: Group) => g.runIds)).toEqual([id]);
    seeded.store.archiveRuns([id], true);
  });
});

describe('structured filters', () => {
  it('parses key-op-value terms and free words, spaces around operators allowed', () => {
    expect(parseFilter('ssmb.numExperts=4 method = ssmb rank1>40 thermal')).toEqual({
      terms: [
        { key: 'ssmb.numExperts', op: '=', value: '4', text: 'ssmb.numExperts=4' },
        { key: 'method', op: '=', value: 'ssmb', text: 'method=ssmb' },
        { key: 'rank1', op: '>', value: '40', text: 'rank1>40' },
      ],
      text: ['thermal'],
    });
  });

  it('filter on config keys, metrics (in %), run fields and words; a typo is an error naming it', async () => {
    const ids = async (where: string) => (await get(`/api/runs?limit=500&where=${encodeURIComponent(where)}`)).body.runs.map((r: { id: number }) => r.id).sort((a: number, b: number) => a - b);
    const n4 = [...seeded.runs].filter(([k]) => k.startsWith('4/')).map(([, id]) => id).sort((a, b) => a - b);
    expect(await ids('ssmb.numExperts=4 status=completed')).toEqual(n4);
    // Rank-1 > 75 %: N=4 on VIS-NIR (80, 82) only; as fractions nothing would be > 75.
    expect(await ids('rank1>75')).toEqual([seeded.runs.get('4/synthetic-vis-nir/1'), seeded.runs.get('4/synthetic-vis-nir/2')].sort((a, b) => a! - b!));
    expect(await ids('method=baseline thermal')).toEqual(seeded.baselineIds.slice(2).sort((a, b) => a - b));
    expect(await ids('ssmb.numExperts!=4 method=ssmb N<2 fold=1 protocol~thermal')).toEqual([seeded.runs.get('1/synthetic-vis-thermal/1')]);
    for (const [where, says] of [['ssmb.nExperts=4', '"ssmb.nExperts"'], ['rank1>', 'give a value'], ['>4', 'starts with a key']] as const) {
      const r = await get(`/api/runs?where=${encodeURIComponent(where)}`);
      expect(r.status, where).toBe(400);
      expect(r.body.error.code).toBe('BAD_FILTER');
      expect(r.body.error.message).toContain(says);
    }
  });
});

describe('compare groups with honest numbers', () => {
  it('N=4 is significantly best over N=1: bold; the two close learning rates are tied, with the interval and p', async () => {
    const ids = ['1/synthetic-vis-nir/1', '1/synthetic-vis-nir/2', '4/synthetic-vis-nir/1', '4/synthetic-vis-nir/2'].map((k) => seeded.runs.get(k)!);
    const { body } = await get(`/api/compare?ids=${ids.join(',')}`);
    expect(body.groups).toHaveLength(2);
    const n4 = body.groups.find((g: Group) => g.runIds.includes(ids[2]));
    const r1 = body.ranking.find((r: { metric: string }) => r.metric === 'rank1');
    expect(r1).toMatchObject({ best: n4.key, tied: [] });
    const s = body.groupSummary.find((x: { group: string; metric: string }) => x.group === n4.key && x.metric === 'rank1');
    expect(s).toMatchObject({ n: 2, runs: 2 });
    expect(s.mean).toBeCloseTo(0.81, 12);

    const tie = (await get(`/api/compare?ids=${[...close.a, ...close.b].join(',')}`)).body;
    expect(tie.groups.map((g: Group) => g.runIds.length)).toEqual([3, 3]);
    const rank = tie.ranking.find((r: { metric: string }) => r.metric === 'rank1');
    expect(rank.best).toBeNull();
    expect(rank.tied).toHaveLength(2);
    const d = Object.values(rank.differences)[0] as { diff: number; ttest: { p: number; df: number }; bootstrap: { ci95: [number, number] } };
    expect(d.diff).toBeCloseTo(0.5 / 3 - 0.49 / 3 + 0.52 / 3 - 0.5 / 3 + 0.47 / 3 - 0.48 / 3, 12);
    expect(d.ttest.df).toBe(2);
    expect(d.ttest.p).toBeGreaterThan(0.05);
    expect(d.bootstrap.ci95[0]).toBeLessThan(0);
    // TAR@FAR=0.01% of 10,440 impostor pairs rests on ~1 false accept: flagged.
    const tar = tie.groupSummary.find((x: { metric: string }) => x.metric === 'tar_far_1e4');
    expect(tar.falseAccepts).toBeCloseTo(1.044, 6);
    expect(tar.fewFalseAccepts).toBe(true);
    const rank1Summary = tie.groupSummary.find((x: { metric: string }) => x.metric === 'rank1');
    expect(rank1Summary.fewFalseAccepts).toBe(false);
  });
});
