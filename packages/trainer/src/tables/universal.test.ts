// Universal rows (one model per fold trained on the pooled protocol, evaluated on every column), the
// reference row's significance marks, and label-aware rows: grid, matching, table and exports.
import { describe, expect, it } from 'vitest';
import { parseTableConfig, type TableConfig } from './config.ts';
import { buildTable, type FoldResult } from './build.ts';
import { foldResultsFromRuns, matchRow } from './match.ts';
import { toCsv, toMarkdown } from './format.ts';
import { expandGrid } from '../reproduce/grid.ts';
import { resolveConfig } from '../config.ts';

const uni = 'synthetic-vis-universal';

function table(extra: Record<string, unknown> = {}): TableConfig {
  return parseTableConfig({
    name: 'cmp', title: 'Comparison', metrics: ['rank1', 'eer'],
    datasets: { synth: { root: '/d' } },
    base: { steps: 10 },
    reference: 'baseline',
    rows: [
      { id: 'baseline', label: 'Frozen', set: { method: 'baseline' } },
      { id: 'caim', label: 'CAIM', set: { method: 'caim' } },
      { id: 'ssmb-uni', label: 'SSMB universal', set: { method: 'ssmb', 'ssmb.numExperts': 4 }, train: uni },
      { id: 'oracle-uni', label: 'Oracle universal', set: { method: 'ssmb-oracle' }, train: uni },
    ],
    columns: [
      { id: 'vis-vis', label: 'VIS-VIS', dataset: 'synth', protocol: 'synthetic-vis-vis', rows: ['baseline', 'ssmb-uni', 'oracle-uni'] },
      { id: 'vis-nir', label: 'VIS-NIR', dataset: 'synth', protocol: 'synthetic-vis-nir' },
      { id: 'vis-thermal', label: 'VIS-THERMAL', dataset: 'synth', protocol: 'synthetic-vis-thermal' },
    ],
    ...extra,
  });
}
const foldsOf = () => ['1', '2', '3'];

describe('universal rows', () => {
  it('one run per fold, trained on the row\'s protocol, evaluated on each of its columns (same fold)', () => {
    const grid = expandGrid(table(), { roots: { synth: '/d' }, weights: null, foldsOf });
    const fold1 = grid.filter((g) => g.fold === '1').map((g) => `${g.row}/${g.column}/${g.protocol}`);
    expect(fold1).toEqual([
      'baseline/vis-vis/synthetic-vis-vis', 'baseline/vis-nir/synthetic-vis-nir', 'baseline/vis-thermal/synthetic-vis-thermal',
      'caim/vis-nir/synthetic-vis-nir', 'caim/vis-thermal/synthetic-vis-thermal',
      `ssmb-uni/vis-vis/${uni}`, `oracle-uni/vis-vis/${uni}`,
    ]);
    const e = grid.find((g) => g.row === 'ssmb-uni' && g.fold === '2')!;
    expect(e.evaluates).toEqual([{ column: 'vis-vis', protocol: 'synthetic-vis-vis' }, { column: 'vis-nir', protocol: 'synthetic-vis-nir' }, { column: 'vis-thermal', protocol: 'synthetic-vis-thermal' }]);
    const c = resolveConfig({ base: e.overrides });
    expect(c.dataset).toMatchObject({ protocol: uni, fold: '2', evalProtocols: ['synthetic-vis-vis', 'synthetic-vis-nir', 'synthetic-vis-thermal'] });
    expect(e.label).toBe(`SSMB universal / trained on ${uni} / fold 2`);
  });

  it('a run belongs to a row only where it trained as the row trains: per-pair rows on the column, universal rows on theirs', () => {
    const t = table();
    const perPair = { method: 'ssmb', ssmb: { numExperts: 4 }, steps: 10, dataset: { protocol: 'synthetic-vis-nir' } };
    expect(matchRow(t, 'vis-nir', perPair)).toBeNull(); // no per-pair ssmb row in this table
    expect(matchRow(t, 'vis-nir', { ...perPair, dataset: { protocol: uni } })).toBe('ssmb-uni');
    expect(matchRow(t, 'vis-nir', { method: 'caim', steps: 10, dataset: { protocol: 'synthetic-vis-nir' } })).toBe('caim');
    expect(matchRow(t, 'vis-nir', { method: 'caim', steps: 10, dataset: { protocol: uni } })).toBeNull(); // caim here is per pair
    const results = foldResultsFromRuns(t, [{
      config: { ...perPair, dataset: { protocol: uni } },
      evaluations: [
        { protocol: 'synthetic-vis-nir', fold: '1', metrics: { rank1: { value: 0.5, count: 40 }, eer: 0.2, genuine: 40 } },
        { protocol: 'synthetic-vis-vis', fold: '1', metrics: { rank1: { value: 0.9, count: 40 } } },
      ],
    }]);
    expect(results.map((r) => [r.row, r.column, r.trials?.rank1])).toEqual([['ssmb-uni', 'vis-nir', 40], ['ssmb-uni', 'vis-vis', 40]]);
  });

  it('refuses a universal row whose columns have overrides of their own or read several datasets', () => {
    expect(() => table({ columns: [{ id: 'a', label: 'A', dataset: 'synth', protocol: 'p', set: { steps: 3 } }] })).toThrow(/row "ssmb-uni" trains once on synthetic-vis-universal .* column\(s\) a have overrides/);
    expect(() => table({ reference: 'nope' })).toThrow(/reference names unknown row "nope"/);
  });
});

describe('significance against the reference row, and label-aware rows', () => {
  // baseline vs caim on VIS-NIR over 3 folds of 200 probes: caim +20.2 points (clearly), on thermal +1.7 (noise)
  const results: FoldResult[] = ['1', '2', '3'].flatMap((fold, i) => [
    { row: 'baseline', column: 'vis-nir', fold, metrics: { rank1: 0.5 + 0.01 * i, eer: 0.2 }, trials: { rank1: 200 } },
    { row: 'caim', column: 'vis-nir', fold, metrics: { rank1: 0.7 + 0.012 * i, eer: 0.1 + 0.001 * i }, trials: { rank1: 200 } },
    { row: 'baseline', column: 'vis-thermal', fold, metrics: { rank1: 0.4 + 0.02 * (i % 2), eer: 0.3 }, trials: { rank1: 200 } },
    { row: 'caim', column: 'vis-thermal', fold, metrics: { rank1: 0.41 + 0.02 * ((i + 1) % 2), eer: 0.3 }, trials: { rank1: 200 } },
  ]);

  it('each cell of the other rows carries its difference, 95% interval and p; the interval decides the mark', () => {
    const t = buildTable(table(), results);
    const caim = t.rows.find((r) => r.id === 'caim')!;
    const nir = caim.cells[1]![0].vsReference!;
    expect(nir.diff).toBeCloseTo(20.2, 6);
    expect(nir.interval).toBe('bootstrap');
    expect(nir.ci95![0]).toBeGreaterThan(10);
    expect(nir.significant).toBe(true);
    const thermal = caim.cells[2]![0].vsReference!;
    expect(thermal.ci95![0]).toBeLessThan(0);
    expect(thermal.significant).toBe(false);
    expect(caim.cells[1]![1].vsReference!.interval).toBe('t-test'); // EER: no trial counts, the t-test over folds
    expect(t.rows.find((r) => r.id === 'baseline')!.cells[1]![0].vsReference).toBeUndefined();
    expect(t.reference).toEqual({ id: 'baseline', label: 'Frozen' });
  });

  it('exports mark significant cells (§) and label-aware rows, and say what both mean', () => {
    const t = buildTable(table(), results);
    expect(t.rows.map((r) => [r.id, r.method, r.labelAware])).toEqual([['baseline', 'baseline', false], ['caim', 'caim', true], ['ssmb-uni', 'ssmb', false], ['oracle-uni', 'ssmb-oracle', true]]);
    const md = toMarkdown(t);
    const caimLine = md.split('\n').find((l) => l.startsWith('| CAIM (label)'))!;
    expect(caimLine).toContain('**71.20 ± 1.20**§');
    expect(caimLine).toContain('| ≈ 42.33 ± 1.15 |'); // the lowest mean, not significantly lower than every other row: tied
    expect(md).toContain('§ Differs from "Frozen" (same column and metric) with a 95% interval that excludes 0');
    expect(md).toContain('"(label)" rows are told each image\'s modality label at training and inference');
    expect(md).toContain(`SSMB universal, Oracle universal (label): one model per fold trained on ${uni}`);
    const csv = toCsv(t).split('\n').find((l) => l.startsWith('cmp,caim,CAIM,ours,vis-nir,VIS-NIR,synthetic-vis-nir,rank1'))!;
    expect(csv).toMatch(/,true,,20\.(2|19)\d*,\d+\.\d+,\d+\.\d+,[\d.e-]+,true$/);
  });
});
