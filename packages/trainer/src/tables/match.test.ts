import { describe, expect, it } from 'vitest';
import { configMatches, foldResultsFromRuns, matchableRuns, matchRow } from './match.ts';
import { configValueAt } from '../flatten.ts';
import { smallTable } from './fixtures.test-helpers.ts';

const run = (method: string, experts: number, steps: number, evals: Array<[string, string, number]>) => ({
  config: { method, ssmb: { experts }, train: { steps } },
  evaluations: evals.map(([protocol, fold, rank1]) => ({ protocol, fold, metrics: { rank1: { value: rank1 }, eer: 0.1 } })),
});

describe('run matching', () => {
  it('reads dotted paths and compares typed values', () => {
    expect(configValueAt({ a: { b: [1, 2] } }, 'a.b')).toEqual([1, 2]);
    expect(configValueAt({ a: 1 }, 'a.b')).toBeUndefined();
    expect(configValueAt({ a: {} }, 'a.toString')).toBeUndefined(); // own keys only
    expect(configMatches({ a: { b: 4 } }, { 'a.b': 4 })).toBe(true);
    expect(configMatches({ a: { b: '4' } }, { 'a.b': 4 })).toBe(false);
  });

  it('assigns runs to rows by config and to columns by protocol and fold list', () => {
    const t = smallTable();
    expect(matchRow(t, 'vis-nir', { method: 'ssmb', ssmb: { experts: 4 }, train: { steps: 10 } })).toBe('ssmb');
    expect(matchRow(t, 'vis-nir', { method: 'ssmb', ssmb: { experts: 2 }, train: { steps: 10 } })).toBeNull();
    expect(matchRow(t, 'vis-nir', { method: 'ssmb', ssmb: { experts: 4 }, train: { steps: 99 } })).toBeNull(); // base differs
    expect(matchRow(t, 'vis-vis', { method: 'ssmb', ssmb: { experts: 4 }, train: { steps: 10 } })).toBeNull(); // restricted column
    const results = foldResultsFromRuns(t, [
      run('baseline', 4, 10, [['synthetic-vis-vis', '1', 0.99], ['synthetic-vis-nir', '1', 0.5], ['synthetic-vis-nir', '4', 0.1]]),
      run('ssmb', 4, 10, [['synthetic-vis-nir', '2', 0.8]]),
      run('ssmb', 4, 10, [['synthetic-vis-thermal', '1', 0.3]]), // not a column
    ]);
    expect(results).toEqual([
      { row: 'baseline', column: 'vis-vis', fold: '1', metrics: { rank1: 0.99, eer: 0.1 } },
      { row: 'baseline', column: 'vis-nir', fold: '1', metrics: { rank1: 0.5, eer: 0.1 } },
      { row: 'ssmb', column: 'vis-nir', fold: '2', metrics: { rank1: 0.8, eer: 0.1 } },
    ]); // fold 4 is outside the column's fold list [1,2,3]
  });

  it('refuses a table whose rows cannot be told apart', () => {
    const t = smallTable({ rows: [{ id: 'a', label: 'A', set: { method: 'ssmb' } }, { id: 'b', label: 'B', set: { 'ssmb.experts': 4 } }], columns: [{ id: 'c', label: 'C', dataset: 'synth', protocol: 'p' }] });
    expect(() => matchRow(t, 'c', { method: 'ssmb', ssmb: { experts: 4 }, train: { steps: 10 } })).toThrow(/rows "a" and "b" both match/);
  });
});

describe('matchableRuns', () => {
  it('groups the store\'s evaluation rows per run and fold, with the count each value was measured over', () => {
    const runs = matchableRuns([{ id: 1, config: { a: 1 } }, { id: 2, config: { a: 2 } }, { id: 3, config: { a: 3 } }], [
      { runId: 1, protocol: 'p', fold: '1', metric: 'rank1', value: 0.5, count: 40 },
      { runId: 1, protocol: 'p', fold: '1', metric: 'eer', value: 0.1, count: null },
      { runId: 1, protocol: 'p', fold: '2', metric: 'rank1', value: 0.6, count: 40 },
      { runId: 3, protocol: 'q', fold: '1', metric: 'rank1', value: 0.7, count: 20 },
    ]);
    expect(runs).toEqual([
      { config: { a: 1 }, evaluations: [
        { protocol: 'p', fold: '1', metrics: { rank1: { value: 0.5, count: 40 }, eer: { value: 0.1, count: null } } },
        { protocol: 'p', fold: '2', metrics: { rank1: { value: 0.6, count: 40 } } },
      ] },
      { config: { a: 3 }, evaluations: [{ protocol: 'q', fold: '1', metrics: { rank1: { value: 0.7, count: 20 } } }] },
    ]); // run 2 has no evaluation: left out
  });
});
