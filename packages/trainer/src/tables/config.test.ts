import { describe, expect, it } from 'vitest';
import { flattenConfigValues } from '../flatten.ts';
import { parseTableConfigYaml, rowsOfColumn, tableMetricSpec } from './config.ts';
import { smallTable } from './fixtures.test-helpers.ts';

describe('table config', () => {
  it('fills defaults: metrics, folds "all", nullable weights', () => {
    const t = smallTable();
    expect(t.metrics).toEqual(['rank1', 'tar_far_1e2', 'eer']);
    expect(t.columns[0].folds).toBe('all');
    expect(t.columns[1].folds).toEqual(['1', '2', '3']); // numbers become fold names
    expect(t.weights).toBeNull();
    expect(rowsOfColumn(t, t.columns[0]).map((r) => r.id)).toEqual(['baseline']);
    expect(rowsOfColumn(t, t.columns[1]).map((r) => r.id)).toEqual(['baseline', 'ssmb']);
  });

  it('rejects unknown keys, naming the path', () => {
    expect(() => smallTable({ colums: [] })).toThrow(/colums/);
    const yaml = `name: x\ntitle: X\ndatasets: {d: {root: null}}\nrows: [{id: a, label: A, sett: {}}]\ncolumns: [{id: c, label: C, dataset: d, protocol: p}]\n`;
    expect(() => parseTableConfigYaml(yaml, 'x.yaml')).toThrow(/x\.yaml[\s\S]*rows\.0[\s\S]*sett/);
  });

  it('rejects duplicate ids, unknown datasets and unknown row restrictions', () => {
    const rows = [{ id: 'a', label: 'A' }, { id: 'a', label: 'A2' }];
    expect(() => smallTable({ rows })).toThrow(/duplicate row id "a"/);
    const columns = [{ id: 'c', label: 'C', dataset: 'nope', protocol: 'p', rows: ['zzz'] }];
    expect(() => smallTable({ columns })).toThrow(/dataset "nope"[\s\S]*unknown row "zzz"/);
  });

  it('rejects unknown metrics unless described', () => {
    expect(() => smallTable({ metrics: ['rank1', 'rnak5'] })).toThrow(/metric "rnak5" is not a known metric/);
    const t = smallTable({ metrics: [{ key: 'custom', label: 'My metric', percent: false, better: 'lower' }] });
    expect(tableMetricSpec(t.metrics[0])).toMatchObject({ key: 'custom', label: 'My metric', percent: false, better: 'lower' });
  });

  it('reports bad YAML with the file name', () => {
    expect(() => parseTableConfigYaml('name: [unclosed', 'bad.yaml')).toThrow(/bad\.yaml is not valid YAML/);
  });

  it('flattens nested overrides to dotted keys, arrays stay leaves', () => {
    expect(flattenConfigValues({ a: { b: 1, c: { d: 'x' } }, 'e.f': [1, 2] })).toEqual({ 'a.b': 1, 'a.c.d': 'x', 'e.f': [1, 2] });
  });
});
