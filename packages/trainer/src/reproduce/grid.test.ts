import { describe, expect, it } from 'vitest';
import { columnFolds, expandGrid, expectedFolds, nestOverrides } from './grid.ts';
import { resolveConfig } from '../config.ts';
import { demoTable, foldsOf } from './fixtures.test-helpers.ts';

describe('expandGrid', () => {
  const ctx = { roots: { synth: '/data/synth' }, weights: '/w/backbone.safetensors', foldsOf };

  it('makes one entry per row x column x fold, honouring column row restrictions, fold 1 first', () => {
    const grid = expandGrid(demoTable(), ctx);
    expect(grid.map((g) => `${g.row}/${g.column}/${g.fold}`)).toEqual([
      'baseline/vv/1', 'baseline/vn/1', 'n2/vn/1',
      'baseline/vn/2', 'n2/vn/2',
      'baseline/vn/3', 'n2/vn/3',
    ]);
    expect(grid[2].label).toBe('SSMB N=2 / VIS-NIR / fold 1');
  });

  it('builds overrides the trainer resolves: base <- row <- dataset/fold/weights', () => {
    const e = expandGrid(demoTable(), ctx).find((g) => g.row === 'n2' && g.fold === '2')!;
    const cfg = resolveConfig({ base: e.overrides });
    expect(cfg.method).toBe('ssmb');
    expect(cfg.ssmb.numExperts).toBe(2);
    expect(cfg.steps).toBe(5);
    expect(cfg.backbone).toMatchObject({ model: 'iresnet-tiny', weights: '/w/backbone.safetensors' });
    expect(cfg.dataset).toMatchObject({ root: '/data/synth', protocol: 'p-vis-nir', fold: '2' });
  });

  it('uses explicit fold lists, counts expected folds, and fails on protocols without folds', () => {
    expect(columnFolds(demoTable(), 'vv', foldsOf)).toEqual(['1']);
    expect(expectedFolds(demoTable(), foldsOf)).toEqual({ vv: 1, vn: 3 });
    expect(() => expandGrid(demoTable(), { ...ctx, foldsOf: () => [] })).toThrow(/declares no folds/);
    expect(() => expandGrid(demoTable(), { ...ctx, roots: {} })).toThrow(/--root synth=DIR/);
  });

  it('nests dotted keys', () => {
    expect(nestOverrides({ 'a.b': 1, 'a.c': [2], d: 'x' })).toEqual({ a: { b: 1, c: [2] }, d: 'x' });
  });
});
