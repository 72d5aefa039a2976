// scanRuns: every run a filter selects as a compact row, each distinct configuration once without the
// keys that tell runs of a group apart (given per run), with the same derived columns, fold-mean metrics
// and tags as the runs list.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RunStore } from './run_store.ts';
import { defaultConfig, mergeConfig } from '../config.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'store-scan-'));
let store: RunStore;
const ids: Record<string, number> = {};
const cfg = (o: unknown) => mergeConfig(defaultConfig(), o);
const APART = ['dataset.fold', 'seed', 'outputDir'];

beforeAll(() => {
  store = RunStore.open(path.join(dir, 'runs.sqlite'));
  for (const fold of ['1', '2', '3']) {
    ids[`n4/${fold}`] = store.createRun({ experiment: 'abl', kind: 'train', method: 'ssmb', config: cfg({ ssmb: { numExperts: 4 }, dataset: { protocol: 'p', fold }, seed: Number(fold), outputDir: `out/${fold}` }), seed: 0, name: `n4 ${fold}` });
    store.recordEvaluation(ids[`n4/${fold}`], { protocol: 'p', fold, metrics: { rank1: { value: 0.5 + 0.1 * Number(fold) } } });
  }
  ids.n1 = store.createRun({ experiment: 'abl', kind: 'train', method: 'ssmb', config: cfg({ ssmb: { numExperts: 1 }, dataset: { protocol: 'p', fold: '1' } }), seed: 0, name: 'n1' });
  ids.pre = store.createRun({ experiment: 'pre', kind: 'pretrain', method: null, config: cfg({ pretrain: { protocol: 'vis-only' } }), seed: 0, name: 'pre' });
  ids.gone = store.createRun({ experiment: 'abl', kind: 'train', method: 'ssmb', config: cfg({}), seed: 0, name: 'gone' });
  store.archiveRuns([ids.gone], true);
  store.setTag(ids['n4/2'], 'paper', 'table2');
});
afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('scanRuns', () => {
  it('shares one config between runs that differ only in the apart keys, and gives those per run', () => {
    const scan = store.scanRuns({}, APART);
    const byName = new Map(scan.runs.map((r) => [r.name, r]));
    expect(scan.runs.map((r) => r.id)).toEqual([ids.pre, ids.n1, ids['n4/3'], ids['n4/2'], ids['n4/1']]); // newest first, archived left out
    const n4 = [1, 2, 3].map((f) => byName.get(`n4 ${f}`)!);
    expect(new Set(n4.map((r) => r.config)).size).toBe(1);
    expect(byName.get('n1')!.config).not.toBe(n4[0].config);
    expect(scan.configs).toHaveLength(3);
    expect(n4.map((r) => r.apart)).toEqual([1, 2, 3].map((f) => ({ 'dataset.fold': String(f), seed: f, outputDir: `out/${f}` })));
    const shared = scan.configs[n4[0].config] as { dataset: Record<string, unknown>; ssmb: { numExperts: number }; seed?: number };
    expect(shared.dataset.protocol).toBe('p');
    expect('fold' in shared.dataset).toBe(false);
    expect(shared.seed).toBeUndefined();
    expect(shared.ssmb.numExperts).toBe(4);
  });

  it('carries the derived columns, fold-mean metrics and (asked for) tags of the runs list', () => {
    const scan = store.scanRuns({}, APART, { tags: true });
    const list = store.queryRuns({ limit: 100, latestKeys: [] }).runs;
    for (const r of scan.runs) {
      const s = list.find((x) => x.id === r.id)!;
      expect({ backbone: r.backbone, numExperts: r.numExperts, protocol: r.protocol, fold: r.fold, metrics: r.metrics, tags: r.tags, status: r.status, kind: r.kind, method: r.method })
        .toEqual({ backbone: s.backbone, numExperts: s.numExperts, protocol: s.protocol, fold: s.fold, metrics: s.metrics, tags: s.tags, status: s.status, kind: s.kind, method: s.method });
    }
    expect(scan.runs.find((r) => r.id === ids['n4/2'])!.metrics.rank1).toBeCloseTo(0.7);
    expect(scan.runs.find((r) => r.id === ids['n4/2'])!.tags).toEqual({ paper: 'table2' });
    expect(scan.runs.find((r) => r.id === ids.pre)!.fold).toBeNull(); // dataset.fold does not apply to pre-training
    expect(scan.runs.find((r) => r.id === ids.pre)!.protocol).toBe('vis-only'); // pre-training's own protocol
    expect(store.scanRuns({}, APART).runs.every((r) => Object.keys(r.tags).length === 0)).toBe(true); // not read unless asked
    // Held apart or not, the fold column is the same.
    expect(store.scanRuns({}, []).runs.map((r) => r.fold)).toEqual(scan.runs.map((r) => r.fold));
  });

  it('reads the same runs as the list filters (archived, experiment, tag, search)', () => {
    expect(store.scanRuns({ archived: 'only' }, APART).runs.map((r) => r.id)).toEqual([ids.gone]);
    expect(store.scanRuns({ experiment: 'pre' }, APART).runs.map((r) => r.id)).toEqual([ids.pre]);
    expect(store.scanRuns({ tag: 'paper=table2' }, APART).runs.map((r) => r.id)).toEqual([ids['n4/2']]);
    expect(store.scanRuns({ ids: [ids.n1, ids.pre] }, ['seed']).runs.map((r) => [r.id, r.apart])).toEqual([[ids.pre, { seed: 0 }], [ids.n1, { seed: 0 }]]);
    expect(store.scanRuns({ search: 'n4' }, APART).runs).toHaveLength(3);
    expect(store.scanRuns({ experiment: 'nothing' }, APART)).toEqual({ configs: [], runs: [] });
  });

  it('with no apart keys keeps every config whole; a key that is not a dotted identifier is refused', () => {
    const scan = store.scanRuns({}, []);
    expect(scan.configs).toHaveLength(scan.runs.length);
    expect(scan.runs.every((r) => Object.keys(r.apart).length === 0)).toBe(true);
    expect(() => store.scanRuns({}, ["seed'); DROP TABLE runs; --"])).toThrow(/dotted identifier/);
  });
});
