import { describe, expect, it } from 'vitest';
import { parse as parseCsvLine } from './csv.test-helpers.ts';
import { buildTable, type FoldResult } from './build.ts';
import { CSV_HEADER, latexEscape, toCsv, toLatex, toMarkdown, toText } from './format.ts';
import { parseReferences } from './references.ts';
import { smallTable } from './fixtures.test-helpers.ts';

// 500 probes and genuine pairs a fold: 90% against 50% Rank-1 on the shared fold is far outside the
// bootstrap's interval, so SSMB is significantly best there; EER has no trials to resample and one shared
// fold leaves no t-test, so nothing is significant on it (tied).
const trials = { rank1: 500, tar_far_1e2: 500 };
const results: FoldResult[] = [
  { row: 'baseline', column: 'vis-vis', fold: '1', metrics: { rank1: 0.99, tar_far_1e2: 0.98, eer: 0.01, genuine: 500 }, trials },
  { row: 'baseline', column: 'vis-nir', fold: '1', metrics: { rank1: 0.5, tar_far_1e2: 0.4, eer: 0.2, genuine: 500 }, trials },
  { row: 'baseline', column: 'vis-nir', fold: '2', metrics: { rank1: 0.6, tar_far_1e2: 0.5, eer: 0.3, genuine: 500 }, trials },
  { row: 'ssmb', column: 'vis-nir', fold: '1', metrics: { rank1: 0.9, tar_far_1e2: 0.8, eer: 0.05, genuine: 500 }, trials },
];
const references = parseReferences({
  references: [
    { method: 'SSMB, N=4', row: 'ssmb', column: 'vis-nir', metric: 'rank1', mean: 97.5, std: 0.3, source: 'Paper A' },
    { method: 'Lit & co', column: 'vis-nir', metric: 'rank1', mean: 93.25, source: 'Paper "B", 2020' },
  ],
});
const table = () => buildTable(smallTable(), results, { expectedFolds: { 'vis-vis': 1, 'vis-nir': 2 }, references });

describe('toMarkdown', () => {
  it('writes one header cell per protocol x metric and mean ± std cells', () => {
    const md = toMarkdown(table());
    const lines = md.split('\n');
    const header = lines.find((l) => l.startsWith('| Method'))!;
    expect(header.split('|').slice(1, -1).map((s) => s.trim())).toEqual([
      'Method', 'VIS-VIS Rank-1', 'VIS-VIS TAR@FAR=1%', 'VIS-VIS EER', 'VIS-NIR Rank-1', 'VIS-NIR TAR@FAR=1%', 'VIS-NIR EER',
    ]);
    const base = lines.find((l) => l.startsWith('| Baseline'))!.split('|').slice(1, -1).map((s) => s.trim());
    expect(base[1]).toBe('99.00 (n=1)'); // one fold: no standard deviation (it is not 0, it does not exist)
    expect(base[4]).toBe('55.00 ± 7.07');
    const ssmb = lines.find((l) => l.startsWith('| SSMB'))!.split('|').slice(1, -1).map((s) => s.trim());
    expect(ssmb[1]).toBe(''); // VIS-VIS not applicable to SSMB
    expect(ssmb[4]).toBe('**90.00** (1/2 folds) [lit. 97.50 ± 0.30]');
    expect(md).toContain('_Mean ± sample standard deviation over n = 1-2 folds (n below the expected count is given in the cell; n = 1 cells have no standard deviation); percentages');
    expect(md).not.toContain('± 0.00');
    expect(md).toContain('| Lit & co (reported) |');
    expect(md).toMatch(/Lower is better for: EER/);
  });
});

describe('toCsv', () => {
  it('writes one parseable line per cell with display-unit numbers', () => {
    const csv = toCsv(table());
    const rows = csv.trim().split('\n').map(parseCsvLine);
    expect(rows[0]).toEqual([...CSV_HEADER]);
    const byKey = new Map(rows.slice(1).map((r) => [`${r[1]}/${r[4]}/${r[7]}`, r]));
    expect(rows.length - 1).toBe(6 + 3 + 1); // baseline 2 cols x 3 metrics, ssmb 1 col, literature 1 cell
    expect(Number(byKey.get('baseline/vis-nir/rank1')![9])).toBeCloseTo(55, 10);
    expect(Number(byKey.get('baseline/vis-nir/rank1')![11])).toBe(2);
    expect(Number(byKey.get('baseline/vis-nir/rank1')![10])).toBeCloseTo(7.0710678, 6);
    expect(byKey.get('baseline/vis-vis/rank1')!.slice(9, 13)).toEqual(['99', '', '1', '1']); // n = 1: std empty, not 0
    // then: skipped entries (none), significantly best, tied
    expect(byKey.get('ssmb/vis-nir/rank1')!.slice(13, 19)).toEqual(['97.5', '0.3', 'Paper A', '', 'true', 'false']);
    expect(byKey.get('baseline/vis-nir/eer')!.slice(17, 19)).toEqual(['false', 'true']); // one shared fold, no trials: tied
    // our rows say whether they are label-aware; no universal row, no reference row here: those stay empty
    expect(byKey.get('ssmb/vis-nir/rank1')!.slice(19)).toEqual(['false', '', '', '', '', '', '']);
    const lit = byKey.get('lit:Lit & co/vis-nir/rank1')!;
    expect(lit[2]).toBe('Lit & co');
    expect(lit[15]).toBe('Paper "B", 2020'); // quotes and commas survive
  });
});

describe('toLatex', () => {
  it('writes a booktabs table with grouped headers and escaped text', () => {
    const tex = toLatex(table());
    expect(tex).toContain('\\begin{tabular}{lcccccc}');
    expect(tex).toContain('& \\multicolumn{3}{c}{VIS-VIS} & \\multicolumn{3}{c}{VIS-NIR} \\\\');
    expect(tex).toContain('\\cmidrule(lr){2-4} \\cmidrule(lr){5-7}');
    expect(tex).toContain('TAR@FAR=1\\%');
    expect(tex).toContain('\\textbf{90.00} (1/2 folds)');
    expect(tex).not.toContain('$\\pm$ 0.00');
    expect(tex).toContain('Lit \\& co (reported)');
    expect(tex.trim().endsWith('\\end{table}')).toBe(true);
    expect(latexEscape('a_b%c&d#e$f{g}h~i^j\\')).toBe('a\\_b\\%c\\&d\\#e\\$f\\{g\\}h\\textasciitilde{}i\\textasciicircum{}j\\textbackslash{}');
  });
});

describe('fold counts', () => {
  it('a table of single folds says n = 1 and shows no standard deviation anywhere', () => {
    const one = buildTable(smallTable(), results.filter((r) => r.fold === '1'), { expectedFolds: { 'vis-vis': 1, 'vis-nir': 1 } });
    for (const out of [toMarkdown(one), toText(one, { maxWidth: 1000 }), toLatex(one)]) {
      expect(out).not.toMatch(/± 0\.00|\$\\pm\$ 0\.00/);
      expect(out).toContain('One fold per cell (n = 1): values without a standard deviation');
    }
    expect(toMarkdown(one)).toContain('| 50.00 (n=1) |');
    const all = buildTable(smallTable(), results.filter((r) => r.column === 'vis-nir' && r.row === 'baseline'), { expectedFolds: { 'vis-nir': 2 } });
    expect(toMarkdown(all)).toContain('_Mean ± sample standard deviation over n = 2 folds; percentages');
  });
});

describe('toText', () => {
  it('aligns columns so every body line has the same width, best marked *', () => {
    const txt = toText(table(), { maxWidth: 1000 });
    const lines = txt.split('\n');
    expect(lines[2]).toMatch(/VIS-VIS.*VIS-NIR/);
    const body = lines.filter((l) => l.startsWith('Baseline') || l.startsWith('SSMB') || l.startsWith('Method'));
    expect(new Set(body.map((l) => l.length)).size).toBe(1);
    expect(txt).toContain('55.00 ± 7.07');
    expect(txt).toContain('90.00* (1/2 folds)');
    expect(txt).toContain('99.00 (n=1)');
    expect(txt).not.toContain('± 0.00');
  });

  it('switches to one block per metric when the wide table would not fit', () => {
    const txt = toText(table(), { maxWidth: 60 });
    expect(txt).toMatch(/^Rank-1 +VIS-VIS +VIS-NIR$/m);
    expect(txt).toMatch(/^EER \(lower is better\) +VIS-VIS +VIS-NIR$/m);
    expect(Math.max(...txt.split('\n').filter((l) => !l.startsWith('Mean') && !l.startsWith('"')).map((l) => l.length))).toBeLessThan(100);
  });
});

describe('cells with skipped list entries (dataset.onMissing=skip)', () => {
  it('are marked in every format and footnoted with the counts per role, summed over folds', () => {
    const skipping: FoldResult[] = [
      { row: 'baseline', column: 'vis-vis', fold: '1', metrics: { rank1: 0.99, tar_far_1e2: 0.98, eer: 0.01 } },
      { row: 'baseline', column: 'vis-nir', fold: '1', metrics: { rank1: 0.5, tar_far_1e2: 0.4, eer: 0.2, skipped_gallery: 0, skipped_probe: 2 } },
      { row: 'baseline', column: 'vis-nir', fold: '2', metrics: { rank1: 0.6, tar_far_1e2: 0.5, eer: 0.3, skipped_gallery: 1, skipped_probe: 1 } },
      { row: 'ssmb', column: 'vis-nir', fold: '1', metrics: { rank1: 0.9, tar_far_1e2: 0.8, eer: 0.05, skipped_train: 0, skipped_gallery: 0, skipped_probe: 0 } },
    ];
    const t = buildTable(smallTable(), skipping, { expectedFolds: { 'vis-vis': 1, 'vis-nir': 2 } });
    expect(t.rows[0].cells[1]!.map((c) => c.skipped)).toEqual([{ gallery: 1, probe: 3 }, { gallery: 1, probe: 3 }, { gallery: 1, probe: 3 }]);
    expect(t.rows[0].cells[0]![0].skipped).toBeUndefined();
    expect(t.rows[1].cells[1]![0].skipped).toBeUndefined(); // skipping allowed, nothing skipped: no mark

    const md = toMarkdown(t);
    const base = md.split('\n').find((l) => l.startsWith('| Baseline'))!.split('|').slice(1, -1).map((s) => s.trim());
    expect(base[1]).toBe('99.00 (n=1)'); // one fold: no standard deviation
    expect(base[4]).toBe('≈ 55.00 ± 7.07†'); // no trial counts and one shared fold: no test can separate the rows
    expect(base[6]).toBe('≈ 25.00 ± 7.07†');
    expect(md).toContain('_† List entries left out because their files are missing (dataset.onMissing=skip), over all folds: Baseline / VIS-NIR: 1 gallery, 3 probe._');
    expect(toText(t, { maxWidth: 1000 })).toContain('55.00 ± 7.07†');
    expect(toText(t, { maxWidth: 1000 })).toContain('Baseline / VIS-NIR: 1 gallery, 3 probe.');
    const tex = toLatex(t);
    expect(tex).toContain('55.00 $\\pm$ 7.07$^\\dagger$');
    expect(tex).toContain('$^\\dagger$ List entries left out');
    const rows = toCsv(t).trim().split('\n').map(parseCsvLine);
    const col = CSV_HEADER.indexOf('skipped');
    expect(rows.find((r) => r[1] === 'baseline' && r[4] === 'vis-nir' && r[7] === 'eer')![col]).toBe('1 gallery; 3 probe');
    expect(rows.find((r) => r[1] === 'baseline' && r[4] === 'vis-vis' && r[7] === 'eer')![col]).toBe('');
  });
});
